// Console sessions: a random value in an httpOnly cookie, its SHA-256 in the database, so a
// database read yields no usable session. They last CONSOLE_SESSION_TTL from sign-in, however busy.
import { sha256 } from '../crypto/hash.js';
import { randomSecret } from '../crypto/random.js';
import type { Database, User } from '../db/database.js';

export interface ConsoleSession {
  /** The stored id (the cookie value's SHA-256): what CSRF tokens are bound to. */
  id: string;
  user: User;
  expiresAt: Date;
}

export class ConsoleSessions {
  constructor(
    private readonly db: Database,
    private readonly ttlSeconds: number,
  ) {}

  /** A new session for the user; returns the cookie's value, the only place it exists in the clear. */
  async start(userId: string): Promise<{ value: string; expiresAt: Date }> {
    const value = randomSecret();
    const now = new Date();
    const expiresAt = new Date(now.getTime() + this.ttlSeconds * 1000);
    // Sign-ins are rare: each sweeps the sessions that ran out.
    await this.db.prisma.consoleSession.deleteMany({ where: { expiresAt: { lte: now } } });
    await this.db.prisma.consoleSession.create({ data: { id: sha256(value), userId, expiresAt } });
    return { value, expiresAt };
  }

  /** The live session of a cookie value, whose user is still an enabled administrator. */
  async find(value: string | undefined): Promise<ConsoleSession | undefined> {
    if (!value || !/^[\w-]{43}$/.test(value)) return undefined;
    const session = await this.db.prisma.consoleSession.findUnique({ where: { id: sha256(value) }, include: { user: true } });
    if (!session || session.expiresAt.getTime() <= Date.now() || !session.user.admin || session.user.disabled) return undefined;
    return { id: session.id, user: session.user, expiresAt: session.expiresAt };
  }

  async end(id: string): Promise<void> {
    await this.db.prisma.consoleSession.deleteMany({ where: { id } });
  }
}
