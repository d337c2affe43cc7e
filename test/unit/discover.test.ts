import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { discoverInputs, imageExtensions } from '../../src/plan/discover.js';

const root = realpathSync(mkdtempSync(join(tmpdir(), 'imgproc-discover-')));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Files are never decoded here: discovery goes by name, so any bytes will do. */
function touch(...paths: string[]): void {
  for (const p of paths) {
    mkdirSync(dirname(join(root, p)), { recursive: true });
    writeFileSync(join(root, p), 'x');
  }
}

const photos = join(root, 'photos');
touch(
  'photos/a.jpg',
  'photos/b.JPEG',
  'photos/c.png',
  'photos/d.webp',
  'photos/e.gif',
  'photos/f.avif',
  'photos/g.tif',
  'photos/h.TIFF',
  'photos/notes.txt',
  'photos/logo.svg',
  'photos/.hidden.jpg',
  'photos/.cache/x.jpg',
  'photos/trips/rome.jpg',
  'photos/trips/deep/er/x.png',
  'photos/out/old.jpg',
  'loose/file.bmp',
  'loose/pic.jpg',
  'globbed/one.jpg',
  'globbed/two.png',
  'globbed/sub/three.jpg',
  'globbed/folder.jpg/inner.png',
);
mkdirSync(join(root, 'globbed', 'album'));
mkdirSync(join(root, 'empty'));

const rels = (r: Awaited<ReturnType<typeof discoverInputs>>) => r.inputs.map((i) => i.relPath);

describe('imageExtensions', () => {
  it('takes the documented formats, and HEIC only when libvips decodes HEVC', () => {
    const base = ['jpg', 'jpeg', 'png', 'webp', 'gif', 'avif', 'tif', 'tiff'];
    const heif = (sharp.versions as Record<string, string | undefined>).de265 !== undefined;
    expect(imageExtensions()).toEqual(heif ? [...base, 'heic', 'heif'] : base);
  });
});

describe('discoverInputs', () => {
  it('walks a folder recursively: every image extension in any case, nothing hidden, no SVG', async () => {
    const r = await discoverInputs(['photos'], root);
    expect(r.problems).toEqual([]);
    expect(rels(r)).toEqual([
      'a.jpg',
      'b.JPEG',
      'c.png',
      'd.webp',
      'e.gif',
      'f.avif',
      'g.tif',
      'h.TIFF',
      'out/old.jpg',
      'trips/deep/er/x.png',
      'trips/rome.jpg',
    ]);
    expect(r.inputs[0]).toEqual({ path: join(photos, 'a.jpg'), relPath: 'a.jpg' });
  });

  it('reports a folder named like an image and walks into it; a link back up only by its name', async () => {
    touch('named/album.jpg/inside.png', 'named/.hidden/x.png');
    symlinkSync(join(root, 'named'), join(root, 'named', 'album.jpg', 'back.png'));
    symlinkSync(join(root, 'named', '.hidden'), join(root, 'named', 'shown'));
    const r = await discoverInputs(['named'], root);
    expect(rels(r)).toEqual([
      'album.jpg',
      'album.jpg/back.png',
      'album.jpg/inside.png',
      'shown/x.png',
    ]);
  });

  it('leaves the output folder out of the walk when it lies inside an input folder', async () => {
    const r = await discoverInputs([photos], '/', join(photos, 'out'));
    expect(rels(r)).not.toContain('out/old.jpg');
    expect(rels(r)).toHaveLength(10);
    // An output folder elsewhere changes nothing.
    expect(rels(await discoverInputs([photos], '/', join(root, 'empty')))).toHaveLength(11);
  });

  it('takes an explicit file whatever its extension, named by its base name', async () => {
    const r = await discoverInputs(['loose/file.bmp', join(root, 'photos/trips/rome.jpg')], root);
    expect(r.inputs).toEqual([
      { path: join(root, 'loose', 'file.bmp'), relPath: 'file.bmp' },
      { path: join(photos, 'trips', 'rome.jpg'), relPath: 'rome.jpg' },
    ]);
    expect(r.problems).toEqual([]);
  });

  it('expands a glob below its fixed prefix; folders it matches only when named like an image', async () => {
    const r = await discoverInputs(['globbed/**/*'], root);
    expect(rels(r)).toEqual([
      'folder.jpg',
      'folder.jpg/inner.png',
      'one.jpg',
      'sub/three.jpg',
      'two.png',
    ]);
    expect(rels(await discoverInputs([join(root, 'globbed', '*.jpg')], '/'))).toEqual([
      'folder.jpg',
      'one.jpg',
    ]);
  });

  it('says which arguments match nothing, and goes on with the others', async () => {
    const r = await discoverInputs(['nope.jpg', 'globbed/*.heic', 'loose/pic.jpg', 'empty'], root);
    expect(rels(r)).toEqual(['pic.jpg']);
    expect(r.problems).toEqual([
      { input: 'nope.jpg', reason: 'no such file or folder' },
      { input: 'globbed/*.heic', reason: 'no file matches this pattern' },
    ]);
  });

  it('takes each real file once, under its shallowest path, in path order', async () => {
    const r = await discoverInputs(['photos/trips', 'photos', 'photos/trips/rome.jpg'], root);
    expect(r.inputs.filter((i) => i.path.endsWith('rome.jpg')).map((i) => i.path)).toEqual([
      join(photos, 'trips', 'rome.jpg'),
    ]);
    expect(r.inputs).toHaveLength(11);
    const paths = r.inputs.map((i) => i.path);
    expect(paths).toEqual([...paths].sort());
  });

  it('follows symbolic links, and a link loop yields each file once', async () => {
    touch('linked/real/p.png');
    symlinkSync(join(root, 'linked', 'real'), join(root, 'linked', 'alias'));
    symlinkSync(join(root, 'linked'), join(root, 'linked', 'real', 'loop'));
    const r = await discoverInputs(['linked'], root);
    expect(rels(r)).toEqual(['alias/p.png']);
    // Found twice, the file keeps the name of its shallowest path.
    touch('shallow/a/b/x.png');
    symlinkSync(join(root, 'shallow', 'a', 'b', 'x.png'), join(root, 'shallow', 'top.png'));
    expect(rels(await discoverInputs(['shallow'], root))).toEqual(['top.png']);
    // A link in a subfolder to a folder elsewhere is followed too.
    touch('linkdeep/sub/own.png', 'elsewhere/far.png');
    symlinkSync(join(root, 'elsewhere'), join(root, 'linkdeep', 'sub', 'alias'));
    for (const arg of ['linkdeep', 'linkdeep/**/*.png']) {
      expect(rels(await discoverInputs([arg], root)), arg).toEqual([
        'sub/alias/far.png',
        'sub/own.png',
      ]);
    }
  });

  it('leaves out what a link leads into the output folder from elsewhere', async () => {
    touch('walked/mine.jpg', 'walked/out/made.jpg');
    symlinkSync(join(root, 'walked', 'out'), join(root, 'walked', 'to-out'));
    const r = await discoverInputs(['walked'], root, join(root, 'walked', 'out'));
    expect(rels(r)).toEqual(['mine.jpg']);
  });

  it('says why an argument cannot be read: a device, a file used as a folder, a link loop', async () => {
    symlinkSync(join(root, 'self.jpg'), join(root, 'self.jpg'));
    const r = await discoverInputs(['/dev/null', 'loose/pic.jpg/x.jpg', 'self.jpg'], root);
    expect(r.inputs).toEqual([]);
    expect(r.problems).toEqual([
      { input: '/dev/null', reason: 'not a regular file (a FIFO, socket or device)' },
      { input: 'loose/pic.jpg/x.jpg', reason: 'a part of the path is a file, not a folder' },
      { input: 'self.jpg', reason: 'too many symbolic links (a loop?)' },
    ]);
  });

  it('takes a glob with no fixed folder from the working folder', async () => {
    const r = await discoverInputs(['*.JPG'], join(root, 'loose'));
    expect(r).toEqual({
      inputs: [{ path: join(root, 'loose', 'pic.jpg'), relPath: 'pic.jpg' }],
      problems: [],
    });
  });

  it('keeps a folder a glob matches when it is named like an image, in any case', async () => {
    touch('caps/Album.JPG/x.png', 'caps/plain/y.png');
    expect(rels(await discoverInputs(['caps/*'], root))).toEqual(['Album.JPG']);
  });

  it('keeps the shallowest path whatever the order of the arguments', async () => {
    touch('order/a/b/x.png', 'order/z.png');
    symlinkSync(join(root, 'order', 'a', 'b'), join(root, 'order', 'link'));
    const r = await discoverInputs(['order/a/b', 'order/link'], root);
    expect(r.inputs).toEqual([{ path: join(root, 'order', 'link', 'x.png'), relPath: 'x.png' }]);
    // In path order, not by depth: a/b/x.png comes before z.png.
    expect(rels(await discoverInputs(['order/z.png', 'order/a'], root))).toEqual([
      'b/x.png',
      'z.png',
    ]);
  });

  it('walks a tree with links back up to its root and to a folder inside, each file once', async () => {
    touch('loops/f.png', 'loops/d/e/g.png');
    const at = (...p: string[]) => join(root, 'loops', ...p);
    symlinkSync(at(), at('self'));
    symlinkSync(at(), at('d', 'up1'));
    symlinkSync(at(), at('d', 'up2'));
    symlinkSync(at('d'), at('d', 'e', 'back1'));
    symlinkSync(at('d'), at('d', 'e', 'back2'));
    expect(rels(await discoverInputs(['loops'], root))).toEqual(['d/e/g.png', 'f.png']);
    // A glob walks the same links with the same guard.
    expect(rels(await discoverInputs(['loops/**/*.png'], root))).toEqual(['d/e/g.png', 'f.png']);
  });

  it('takes a dangling link named like an image, so that it is reported, not skipped', async () => {
    touch('dangling/ok.png');
    symlinkSync(join(root, 'dangling', 'gone.jpg'), join(root, 'dangling', 'broken.jpg'));
    expect(rels(await discoverInputs(['dangling'], root))).toEqual(['broken.jpg', 'ok.png']);
    const out = join(root, 'dangling-out');
    expect(rels(await discoverInputs(['dangling'], root, out))).toEqual(['broken.jpg', 'ok.png']);
  });

  it('leaves out only the output folder, not a folder whose name merely starts like it', async () => {
    touch('nest/web/out/made.jpg', 'nest/webout/keep.jpg', 'nest/web/outer.jpg');
    const r = await discoverInputs(['nest'], root, join(root, 'nest', 'web', 'out'));
    expect(rels(r)).toEqual(['web/outer.jpg', 'webout/keep.jpg']);
  });
});
