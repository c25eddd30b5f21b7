// The running instance's keys: loaded from the database, moved through their phases on schedule,
// and reloaded whenever any instance changes them (the invalidation bus), so that every instance
// signs with the same keys within a second of a change.
import type { Logger } from 'pino';
import type { InvalidationBus } from '../cache/invalidation.js';
import type { Database } from '../db/database.js';
import { advanceKeys, listKeys, loadKeys, RotationInProgress, rotateKeys, scheduledRotationDue, type KeySet, type KeySettings, type KeyView } from './store.js';

/** How often an instance checks whether a phase change (or a scheduled rotation) is due. */
const CHECK_INTERVAL_MS = 5_000;
/** However quiet the bus, an instance reads the keys again this often: a missed notification cannot keep an old key signing. */
const RELOAD_AFTER_MS = 60_000;

export class KeyRing {
  #set: KeySet;
  /** The cookie keys, current first: one array, changed in place, that Koa and the provider both sign and verify with. */
  readonly cookieKeys: string[];
  readonly #listeners: ((set: KeySet) => void)[] = [];
  #timer: NodeJS.Timeout | undefined;
  #reloading: Promise<void> | undefined;
  #reloadAgain = false;
  #loadedAt = Date.now();

  constructor(
    private readonly db: Database,
    private readonly kek: Buffer,
    initial: KeySet,
    private readonly settings: KeySettings,
    private readonly bus: InvalidationBus,
    private readonly log: Logger,
  ) {
    this.#set = initial;
    this.cookieKeys = [...initial.cookieKeys];
    bus.subscribe(
      (event) => {
        if (event.kind === 'keys') void this.reload();
      },
      // Changes may have been missed while the bus was down.
      () => void this.reload(),
    );
  }

  get current(): KeySet {
    return this.#set;
  }

  /** `listener` gets every new key set, after the ring holds it. */
  onChange(listener: (set: KeySet) => void): void {
    this.#listeners.push(listener);
  }

  /** Reads the keys again; calls made meanwhile are folded into one more read. */
  reload(): Promise<void> {
    if (this.#reloading) {
      this.#reloadAgain = true;
      return this.#reloading;
    }
    this.#reloading = (async () => {
      do {
        this.#reloadAgain = false;
        try {
          const loadedAt = Date.now();
          this.#apply(await loadKeys(this.db, this.kek));
          this.#loadedAt = loadedAt;
        } catch (err) {
          this.log.error({ err }, 'could not reload the keys from the database; the ones loaded before stay in use');
        }
      } while (this.#reloadAgain);
    })().finally(() => (this.#reloading = undefined));
    return this.#reloading;
  }

  /** Makes the phase changes due by now (and a scheduled rotation); tells every instance if anything changed. */
  async tick(now = new Date()): Promise<void> {
    let changed = false;
    if (await scheduledRotationDue(this.db, now, this.settings)) {
      changed = await rotateKeys(this.db, this.kek, now, this.settings).then(
        (views) => (this.log.info({ kids: views.map((view) => view.kid) }, 'started a scheduled key rotation'), true),
        // Another instance started it first.
        (err: unknown) => (err instanceof RotationInProgress ? false : Promise.reject(err)),
      );
    }
    if (await advanceKeys(this.db, now, this.settings)) changed = true;
    if (changed) return this.#changed();
    // Another instance made a change this one knows is due, or may have made one unheard of.
    const due = this.#set.nextChangeAt !== undefined && this.#set.nextChangeAt <= now;
    if (due || now.getTime() - this.#loadedAt >= RELOAD_AFTER_MS) await this.reload();
  }

  /** Starts a rotation now: new keys, published at once, signing after JWKS_CACHE_SECONDS. */
  async rotate(now = new Date()): Promise<KeyView[]> {
    const views = await rotateKeys(this.db, this.kek, now, this.settings);
    this.log.info({ kids: views.map((view) => view.kid), activatesAt: views[0]?.activates_at }, 'started a key rotation');
    // With JWKS_CACHE_SECONDS=0 the new keys sign at once.
    await advanceKeys(this.db, now, this.settings);
    await this.#changed();
    return (await listKeys(this.db)).filter((view) => views.some((created) => created.kid === view.kid));
  }

  start(): void {
    this.#timer = setInterval(() => {
      this.tick().catch((err: unknown) => this.log.warn({ err }, 'key phase check failed'));
    }, CHECK_INTERVAL_MS).unref();
  }

  close(): void {
    clearInterval(this.#timer);
  }

  async #changed(): Promise<void> {
    await this.reload();
    await this.bus.publish({ kind: 'keys' });
  }

  #apply(set: KeySet): void {
    this.#set = set;
    this.cookieKeys.splice(0, this.cookieKeys.length, ...set.cookieKeys);
    for (const listener of this.#listeners) listener(set);
  }
}
