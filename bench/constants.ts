/** The baseline's one static client (plaintext secret, as the baseline is meant to be). */
export const BASELINE_CLIENT = { id: 'bench-client', secret: 'bench-client-secret-0123456789abcdefghijklmnop' };
import { ADMIN_CLIENT_ID, ADMIN_CLIENT_SECRET } from '../test/helpers/tollgate.js';

/** Tollgate's admin client in a bench run (the tests' own, so their sign-in helpers work); the database is made for the run. */
export const BENCH_ADMIN = { id: ADMIN_CLIENT_ID, secret: ADMIN_CLIENT_SECRET };
