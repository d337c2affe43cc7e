import { describe, expect, it } from 'vitest';
import { mayUseSubcommands, SUBCOMMANDS } from '../../src/cli/command.js';

describe('mayUseSubcommands', () => {
  it('is true when a subcommand is named, or help is asked for', () => {
    for (const name of SUBCOMMANDS)
      expect(mayUseSubcommands([name, '--redis', 'x']), name).toBe(true);
    expect(mayUseSubcommands(['--cpu', 'doctor'])).toBe(true);
    expect(mayUseSubcommands(['help'])).toBe(true);
    expect(mayUseSubcommands(['--help'])).toBe(true);
    expect(mayUseSubcommands(['-h'])).toBe(true);
    expect(mayUseSubcommands(['-qh'])).toBe(true);
  });

  it('is false for a batch or daemon run, so that neither loads them', () => {
    expect(mayUseSubcommands(['photos', '--out', 'web', '--no-progress', '-j', '4'])).toBe(false);
    expect(mayUseSubcommands(['--daemon', '--redis', 'redis://host:6379'])).toBe(false);
    expect(mayUseSubcommands([])).toBe(false);
  });
});
