// The depth and size limits every parsed body passes (src/http/bodies.ts), read from the raw text.
import { describe, expect, it } from 'vitest';
import { checkFormParameters, checkJsonDepth, MAX_FORM_PARAMETERS, MAX_JSON_DEPTH } from '../../src/http/bodies.js';

const nested = (depth: number, leaf = '1') => `${'[{"a":'.repeat(depth / 2)}${leaf}${'}]'.repeat(depth / 2)}`;

describe('JSON depth', () => {
  it('takes nesting up to the limit, arrays and objects alike, and refuses one level more', () => {
    expect(() => checkJsonDepth(nested(MAX_JSON_DEPTH))).not.toThrow();
    expect(() => checkJsonDepth(`[${nested(MAX_JSON_DEPTH)}]`)).toThrow(`JSON bodies are nested at most ${MAX_JSON_DEPTH} levels deep`);
    expect(() => checkJsonDepth('['.repeat(100_000))).toThrow(/32 levels/);
  });

  it('counts no bracket inside a string, escaped quotes included', () => {
    expect(() => checkJsonDepth(JSON.stringify({ a: '['.repeat(100), b: `"[[[[\\${'{'.repeat(100)}` }))).not.toThrow();
    expect(() => checkJsonDepth(nested(MAX_JSON_DEPTH, JSON.stringify('\\"]]]]'.repeat(10))))).not.toThrow();
    // After a string ending in an escaped backslash, brackets count again: 30 + 3 levels.
    expect(() => checkJsonDepth(nested(MAX_JSON_DEPTH - 2, '["\\\\",[[]]]'))).toThrow(/32 levels/);
  });

  it('counts sibling containers once: depth, not number', () => {
    expect(() => checkJsonDepth(JSON.stringify(Array.from({ length: 1000 }, () => [[{}]])))).not.toThrow();
  });
});

describe('form parameters', () => {
  it('takes up to the limit, repeated names included, and refuses one more', () => {
    expect(() => checkFormParameters(Array(MAX_FORM_PARAMETERS).fill('a=1').join('&'))).not.toThrow();
    expect(() =>
      checkFormParameters(
        Array(MAX_FORM_PARAMETERS + 1)
          .fill('a=1')
          .join('&'),
      ),
    ).toThrow(`forms have at most ${MAX_FORM_PARAMETERS} parameters`);
    expect(() =>
      checkFormParameters(
        Array(MAX_FORM_PARAMETERS + 1)
          .fill('a')
          .join('&'),
      ),
    ).toThrow(/at most/);
  });

  it('counts no empty segment', () => {
    expect(() => checkFormParameters('&'.repeat(10_000))).not.toThrow();
    expect(() => checkFormParameters(`&&${Array(MAX_FORM_PARAMETERS).fill('a=1').join('&&&')}&`)).not.toThrow();
    expect(() => checkFormParameters('')).not.toThrow();
  });
});
