import { describe, expect, it } from 'vitest';
import { colours } from '../../src/cli/reporter.js';

describe('colours', () => {
  it('wraps text in 16-colour ANSI codes when colour is on', () => {
    const c = colours(true);
    expect(c.red('✗')).toBe('\x1b[31m✗\x1b[39m');
    expect(c.green('3 processed')).toBe('\x1b[32m3 processed\x1b[39m');
    expect(c.yellow('warning:')).toBe('\x1b[33mwarning:\x1b[39m');
    expect(c.dim('(hint)')).toBe('\x1b[2m(hint)\x1b[22m');
    expect(c.red('')).toBe('');
  });

  it('closes the style at each line break and reopens it after, and after a nested close', () => {
    const c = colours(true);
    expect(c.red('a\nb\r\nc')).toBe('\x1b[31ma\x1b[39m\n\x1b[31mb\x1b[39m\r\n\x1b[31mc\x1b[39m');
    expect(c.red(`x ${c.green('y')} z`)).toBe('\x1b[31mx \x1b[32my\x1b[39m\x1b[31m z\x1b[39m');
  });

  it('leaves text untouched when colour is off', () => {
    const c = colours(false);
    expect([c.red('a\nb'), c.green('g'), c.yellow('y'), c.dim('d')]).toEqual([
      'a\nb',
      'g',
      'y',
      'd',
    ]);
  });
});
