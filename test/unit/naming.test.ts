import { sep } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { checkJobId, disambiguate, stemOf, type Named } from '../../src/plan/naming.js';
import { compareText } from '../../src/plan/order.js';

describe('stemOf', () => {
  it('drops the extension and keeps the relative folders', () => {
    expect(stemOf('rome.jpg')).toBe('rome');
    expect(stemOf('trips/rome.jpg')).toBe('trips/rome');
    expect(stemOf('trips/italy/café-ñ.jpeg')).toBe('trips/italy/café-ñ');
    expect(stemOf('summer holiday 2019.JPG')).toBe('summer holiday 2019');
  });

  it('drops only the last extension', () => {
    expect(stemOf('archive.tar.png')).toBe('archive.tar');
    expect(stemOf('v1.2/photo.v3.webp')).toBe('v1.2/photo.v3');
  });

  it("keeps names without an extension, and dot files' names", () => {
    expect(stemOf('README')).toBe('README');
    expect(stemOf('.hidden')).toBe('.hidden');
  });

  it('normalises separators: always /, no empty or . parts', () => {
    // On POSIX a backslash is part of a file name, not a separator.
    expect(stemOf('a\\b\\c.png')).toBe(sep === '\\' ? 'a/b/c' : 'a\\b\\c');
    expect(stemOf('./a//b/./c.png')).toBe('a/b/c');
  });

  it('refuses paths that would climb out or are empty', () => {
    expect(() => stemOf('../x.jpg')).toThrow(UsageError);
    expect(() => stemOf('a/../../x.jpg')).toThrow(/cannot derive an output name/);
    expect(() => stemOf('')).toThrow(UsageError);
    expect(() => stemOf('./')).toThrow(UsageError);
  });

  it('never returns an absolute path', () => {
    expect(stemOf('/etc/passwd.png')).toBe('etc/passwd');
  });
});

const named = (key: string, relPath: string, fixed = false): Named => ({
  key,
  relPath,
  stem: stemOf(relPath),
  fixed,
});

function stems(items: Named[]): Record<string, string> {
  return Object.fromEntries(disambiguate(items).items.map((i) => [i.key, i.stem]));
}

describe('disambiguate', () => {
  it('leaves distinct stems alone and reports no collision', () => {
    const { items, collisions } = disambiguate([
      named('/a.jpg', 'a.jpg'),
      named('/b.jpg', 'b.jpg'),
    ]);
    expect(items.map((i) => i.stem)).toEqual(['a', 'b']);
    expect(collisions).toEqual([]);
  });

  it('appends the extension to every member of a colliding group and reports it', () => {
    const { items, collisions } = disambiguate([
      named('/a.jpg', 'a.jpg'),
      named('/a.png', 'a.png'),
    ]);
    expect(items.map((i) => i.stem)).toEqual(['a_jpg', 'a_png']);
    expect(collisions).toEqual([
      {
        stem: 'a',
        renamed: [
          { relPath: 'a.jpg', stem: 'a_jpg', key: '/a.jpg' },
          { relPath: 'a.png', stem: 'a_png', key: '/a.png' },
        ],
      },
    ]);
  });

  it('collides case-insensitively (outputs may land on a case-insensitive file system)', () => {
    expect(
      stems([named('/A.webp', 'A.webp'), named('/a.jpg', 'a.jpg'), named('/a.png', 'a.png')]),
    ).toEqual({
      '/A.webp': 'A_webp',
      '/a.jpg': 'a_jpg',
      '/a.png': 'a_png',
    });
  });

  it('lowercases the extension it appends', () => {
    expect(stems([named('/x.JPG', 'x.JPG'), named('/x.png', 'x.png')])).toEqual({
      '/x.JPG': 'x_jpg',
      '/x.png': 'x_png',
    });
  });

  it('is independent of input order', () => {
    const make = () => [
      named('/r1/a.jpg', 'a.jpg'),
      named('/r2/a.jpg', 'a.jpg'),
      named('/r1/a.png', 'a.png'),
      named('/r1/A.jpeg', 'A.jpeg'),
      named('/r1/b.png', 'b.png'),
      named('/r1/a_jpg.gif', 'a_jpg.gif'),
    ];
    const forward = stems(make());
    const reversed = stems(make().reverse());
    const shuffled = stems([3, 0, 5, 1, 4, 2].map((i) => make()[i]!));
    expect(reversed).toEqual(forward);
    expect(shuffled).toEqual(forward);
    // Unique, case-insensitively.
    const all = Object.values(forward).map((s) => s.toLowerCase());
    expect(new Set(all).size).toBe(all.length);
  });

  it('adds a counter when the extension is not enough, avoiding names already taken', () => {
    const out = stems([
      named('/r1/a.jpg', 'a.jpg'),
      named('/r2/a.jpg', 'a.jpg'),
      named('/r1/a_jpg.png', 'a_jpg.png'),
    ]);
    expect(out['/r1/a_jpg.png']).toBe('a_jpg');
    expect(new Set(Object.values(out)).size).toBe(3);
    // The members of the a.jpg group move out of the way of the existing a_jpg.
    expect(out['/r1/a.jpg']).toBe('a_jpg_2');
    expect(out['/r2/a.jpg']).toBe('a_jpg_3');
  });

  it('uses "noext" for inputs without an extension', () => {
    expect(stems([named('/k/a', 'a'), named('/k/a.png', 'a.png')])).toEqual({
      '/k/a': 'a_noext',
      '/k/a.png': 'a_png',
    });
  });

  it('never renames a fixed id; the others move out of its way', () => {
    const items = [
      named('/jobs/x.jpg', 'x.jpg'),
      { ...named('/jobs/42.jpg', '42.jpg'), stem: 'x', fixed: true },
    ];
    const { items: out, collisions } = disambiguate(items);
    expect(out.find((i) => i.fixed)!.stem).toBe('x');
    expect(out.find((i) => !i.fixed)!.stem).toBe('x_jpg');
    expect(collisions[0]!.renamed).toEqual([
      { relPath: 'x.jpg', stem: 'x_jpg', key: '/jobs/x.jpg' },
    ]);
  });

  it('numbers the members that share an extension in key order, whatever the input order', () => {
    for (const order of [
      ['/r1/a.jpg', '/r2/a.jpg', '/r3/a.jpg'],
      ['/r3/a.jpg', '/r1/a.jpg', '/r2/a.jpg'],
      ['/r2/a.jpg', '/r3/a.jpg', '/r1/a.jpg'],
    ]) {
      const { collisions } = disambiguate(order.map((key) => named(key, 'a.jpg')));
      expect(collisions).toEqual([
        {
          stem: 'a',
          renamed: [
            { relPath: 'a.jpg', stem: 'a_jpg', key: '/r1/a.jpg' },
            { relPath: 'a.jpg', stem: 'a_jpg_2', key: '/r2/a.jpg' },
            { relPath: 'a.jpg', stem: 'a_jpg_3', key: '/r3/a.jpg' },
          ],
        },
      ]);
    }
  });

  it('keeps folders in the stem: the same name in two folders is not a collision', () => {
    expect(stems([named('/r/a/x.jpg', 'a/x.jpg'), named('/r/b/x.jpg', 'b/x.jpg')])).toEqual({
      '/r/a/x.jpg': 'a/x',
      '/r/b/x.jpg': 'b/x',
    });
  });
});

describe('checkJobId', () => {
  it('accepts safe ids', () => {
    for (const id of ['42', 'a', 'photo-1', 'user_7.v2', 'A'.repeat(128)]) {
      expect(checkJobId(id), id).toBeUndefined();
    }
  });

  it('refuses ids that could leave the output folder or surprise a file system', () => {
    for (const id of [
      '../x',
      '..',
      '/etc/x',
      'a/b',
      'a\\b',
      '.hidden',
      '-flag',
      '',
      'a..b',
      'x y',
      'é',
      'A'.repeat(129),
      'a\0b',
    ]) {
      expect(checkJobId(id), JSON.stringify(id)).toMatch(
        /^unsafe id ".*": use 1-128 letters, digits/,
      );
    }
  });
});

describe('disambiguate at scale', () => {
  it('gives 20,000 inputs of one name 20,000 distinct names, counting up', () => {
    const items = Array.from({ length: 20_000 }, (_, i) => ({
      key: `/m.ndjson:${String(i + 1).padStart(5, '0')}`,
      relPath: 'a.png',
      stem: 'a',
    }));
    const { items: out, collisions } = disambiguate(items);
    expect(new Set(out.map((i) => i.stem)).size).toBe(20_000);
    expect(out.slice(0, 3).map((i) => i.stem)).toEqual(['a_png', 'a_png_2', 'a_png_3']);
    expect(out[19_999]!.stem).toBe('a_png_20000');
    expect(collisions).toHaveLength(1);
  });
});

describe('compareText', () => {
  it('orders by code unit, not by locale: capitals before small letters', () => {
    expect(compareText('a', 'b')).toBe(-1);
    expect(compareText('b', 'a')).toBe(1);
    expect(compareText('a', 'a')).toBe(0);
    expect(compareText('Z', 'a')).toBe(-1);
    expect(compareText('a/b', 'a.b')).toBe(1);
    expect(['b', 'a', 'B', 'é', 'e'].sort(compareText)).toEqual(['B', 'a', 'b', 'e', 'é']);
  });
});
