// oidc-provider answers any error it does not know (a database outage, a full argon2 gate, a rate
// limit reached inside client authentication) as 500 server_error. Its error handler sets that
// answer and then emits `server_error` synchronously, before the answer leaves: a listener can
// still replace it, which is how those errors get the one error model's answer instead. The check
// finds that order in the handler's source; test/unit/provider-internals.test.ts pins it over HTTP.
import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { expectShape, providerSource } from './shape.js';

export function checkServerErrors(): void {
  const handler = providerSource('lib/shared/error_handler.js');
  const answered = handler.indexOf('ctx.body = out;');
  const emitted = handler.indexOf("provider.emit('server_error', ctx, err);");
  expectShape(answered !== -1 && emitted > answered, 'error handler no longer emits server_error after setting its answer');
}

/** `answer` replaces the provider's 500 for whatever error it did not know. */
export function replaceServerErrors(provider: Provider, answer: (ctx: KoaContextWithOIDC, err: unknown) => void): void {
  checkServerErrors();
  provider.on('server_error', answer);
}
