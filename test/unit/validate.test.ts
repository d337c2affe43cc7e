import { describe, expect, it } from 'vitest';
import {
  didYouMean,
  parseBoolean,
  parseChoice,
  parseInteger,
  parseList,
  parseNumber,
} from '../../src/config/validate.js';
import { UsageError } from '../../src/errors.js';

function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return (err as UsageError).message;
  }
  throw new Error('expected a UsageError');
}

describe('parseInteger', () => {
  it('takes plain decimal integers within the range, ends included', () => {
    expect(parseInteger('n', '1', 1, 10)).toBe(1);
    expect(parseInteger('n', '10', 1, 10)).toBe(10);
    expect(parseInteger('n', '007', 1, 10)).toBe(7);
    expect(parseInteger('n', ' 5 ', 1, 10)).toBe(5);
    expect(parseInteger('n', '+5', 1, 10)).toBe(5);
    expect(parseInteger('n', '0', 0, 0)).toBe(0);
  });

  it('refuses every other way of writing a number, with one message shape', () => {
    for (const value of [
      '1e2',
      '0x10',
      '0b11',
      '0o17',
      '1_000',
      '5.0',
      '5.5',
      '-5',
      '',
      ' ',
      '5px',
      'Infinity',
      'NaN',
      '٥',
    ]) {
      expect(
        refusal(() => parseInteger('width', value, 0, 1000)),
        value,
      ).toBe(`Expected an integer between 0 and 1000 for width but received "${value}"`);
    }
  });

  it('refuses values outside the range', () => {
    expect(refusal(() => parseInteger('n', '0', 1, 10))).toBe(
      'Expected an integer between 1 and 10 for n but received "0"',
    );
    expect(refusal(() => parseInteger('n', '11', 1, 10))).toBe(
      'Expected an integer between 1 and 10 for n but received "11"',
    );
  });

  it('refuses integers too large to hold exactly', () => {
    const max = Number.MAX_SAFE_INTEGER;
    expect(parseInteger('n', String(max), 1, max)).toBe(max);
    expect(refusal(() => parseInteger('n', '9007199254740993', 1, max))).toMatch(
      /^Expected an integer between 1 and 9007199254740991 for n/,
    );
  });
});

describe('parseNumber', () => {
  it('takes decimals within the range, ends included', () => {
    expect(parseNumber('s', '0.3', 0.3, 100)).toBe(0.3);
    expect(parseNumber('s', '100', 0.3, 100)).toBe(100);
    expect(parseNumber('s', ' 2.5 ', 0.3, 100)).toBe(2.5);
  });

  it('refuses non-numbers, blanks and values out of range', () => {
    for (const value of ['', '  ', 'abc', 'Infinity', '0.29', '100.01']) {
      expect(
        refusal(() => parseNumber('s', value, 0.3, 100)),
        value,
      ).toBe(`Expected a number between 0.3 and 100 for s but received "${value}"`);
    }
  });

  it('refuses a blank value even where 0 is allowed', () => {
    for (const value of ['', '   ']) {
      expect(
        refusal(() => parseNumber('f', value, 0, 1)),
        JSON.stringify(value),
      ).toBe(`Expected a number between 0 and 1 for f but received "${value}"`);
    }
  });

  it('with minExclusive, refuses the minimum itself and says so', () => {
    expect(parseNumber('f', '0.01', 0, 1, { minExclusive: true })).toBe(0.01);
    expect(parseNumber('f', '1', 0, 1, { minExclusive: true })).toBe(1);
    expect(refusal(() => parseNumber('f', '0', 0, 1, { minExclusive: true }))).toBe(
      'Expected a number greater than 0 and at most 1 for f but received "0"',
    );
    expect(refusal(() => parseNumber('f', '1.5', 0, 1, { minExclusive: true }))).toBe(
      'Expected a number greater than 0 and at most 1 for f but received "1.5"',
    );
    // Without it, the minimum is allowed.
    expect(parseNumber('f', '0', 0, 1)).toBe(0);
  });
});

describe('parseChoice and parseList', () => {
  const colours = ['red', 'green', 'blue'] as const;

  it('takes exactly one of the choices', () => {
    expect(parseChoice('colour', 'green', colours)).toBe('green');
    expect(refusal(() => parseChoice('colour', 'Green', colours))).toBe(
      'Expected one of red, green, blue for colour but received "Green"',
    );
  });

  it('splits on commas, trims, drops empty items and repeats, keeps the order', () => {
    expect(parseList('colours', ' blue ,red,,blue', colours)).toEqual(['blue', 'red']);
    expect(parseList('colours', 'green', colours)).toEqual(['green']);
  });

  it('refuses an empty list and names a bad item', () => {
    expect(refusal(() => parseList('colours', ' , ', colours))).toBe(
      'Expected a comma-separated list of red, green, blue for colours but received " , "',
    );
    expect(refusal(() => parseList('colours', 'red,pink', colours))).toBe(
      'Expected one of red, green, blue for colours but received "pink"',
    );
  });
});

describe('parseBoolean', () => {
  it('takes 1/true/yes/on and 0/false/no/off/empty in any case', () => {
    for (const v of ['1', 'true', 'YES', ' On ']) expect(parseBoolean('b', v), v).toBe(true);
    for (const v of ['0', 'False', 'no', 'OFF', '']) expect(parseBoolean('b', v), v).toBe(false);
  });

  it('refuses anything else', () => {
    expect(refusal(() => parseBoolean('force', 'maybe'))).toBe(
      'Expected one of true, false, 1, 0 for force but received "maybe"',
    );
  });
});

describe('didYouMean', () => {
  const keys = ['input', 'id', 'ops', 'options', 'out'];

  it('suggests the closest choice, ignoring case, in its own spelling', () => {
    expect(didYouMean('opts', keys)).toBe('ops');
    expect(didYouMean('imput', keys)).toBe('input');
    expect(didYouMean('OPTIONS', keys)).toBe('options');
    expect(didYouMean('thumbwidth', ['thumbWidth', 'blurSigma'])).toBe('thumbWidth');
  });

  it('suggests nothing when more than a third of the letters would change', () => {
    // "format" is three edits from "force"; six letters allow two.
    expect(didYouMean('format', ['force'])).toBeUndefined();
    expect(didYouMean('forcex', ['force'])).toBe('force');
    expect(didYouMean('fxrcex', ['force'])).toBe('force');
    expect(didYouMean('fxrxex', ['force'])).toBeUndefined();
    expect(didYouMean('priority', keys)).toBeUndefined();
    expect(didYouMean('xd', keys)).toBeUndefined();
  });

  it('suggests nothing for an empty value or no choices', () => {
    expect(didYouMean('', keys)).toBeUndefined();
    expect(didYouMean('ops', [])).toBeUndefined();
  });
});
