#!/usr/bin/env node
// Regenerates every image under fixtures/ (and fixtures/README.md) from code: synthetic pixels
// encoded by sharp, plus hand-written bytes for the broken inputs. Deterministic for one sharp
// version. Usage: node scripts/make-fixtures.mjs   (npm run fixtures)
import { mkdir, rm, writeFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import sharp from 'sharp';

const ROOT = fileURLToPath(new URL('../fixtures/', import.meta.url));
const MAX_TOTAL_BYTES = 3 * 1024 * 1024;

// ---------------------------------------------------------------------------------------------
// Pixel generators (pure JS, seeded, so every run produces the same pixels)

function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const clamp8 = (v) => (v < 0 ? 0 : v > 255 ? 255 : Math.round(v));
const mix = (a, b, t) => a + (b - a) * t;
const smoothstep = (e0, e1, x) => {
  const t = Math.min(1, Math.max(0, (x - e0) / (e1 - e0)));
  return t * t * (3 - 2 * t);
};

/**
 * A landscape-like RGB picture: sky gradient, sun, rolling hills with texture, soft blobs and
 * sensor-like grain, so that codecs see roughly what they see in a photograph.
 */
function photoLike(width, height, seed, { grain = 5 } = {}) {
  const rnd = mulberry32(seed);
  const hue = () => [rnd() * 255, rnd() * 255, rnd() * 255];
  const skyTop = [30 + rnd() * 60, 60 + rnd() * 80, 140 + rnd() * 100];
  const skyLow = [190 + rnd() * 60, 150 + rnd() * 80, 120 + rnd() * 90];
  const ground = [40 + rnd() * 80, 70 + rnd() * 90, 20 + rnd() * 60];
  const groundFar = [ground[0] * 0.6 + 60, ground[1] * 0.6 + 60, ground[2] * 0.6 + 80];
  const sun = {
    x: width * (0.2 + rnd() * 0.6),
    y: height * (0.15 + rnd() * 0.2),
    r: height * 0.06,
  };
  const waves = [0, 1, 2].map(() => ({
    f: 1 + rnd() * 5,
    p: rnd() * Math.PI * 2,
    a: 0.02 + rnd() * 0.06,
  }));
  const blobs = Array.from({ length: 14 }, () => ({
    x: rnd() * width,
    y: height * (0.5 + rnd() * 0.5),
    rx: width * (0.02 + rnd() * 0.08),
    ry: height * (0.02 + rnd() * 0.06),
    c: hue(),
    a: 0.5 + rnd() * 0.5,
  }));
  const stripeF = 0.02 + rnd() * 0.05;
  const out = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    const v = y / height;
    for (let x = 0; x < width; x++) {
      const u = x / width;
      let horizon = 0.55;
      for (const w of waves) horizon += w.a * Math.sin(u * Math.PI * 2 * w.f + w.p);
      let r, g, b;
      if (v < horizon) {
        const t = v / horizon;
        r = mix(skyTop[0], skyLow[0], t);
        g = mix(skyTop[1], skyLow[1], t);
        b = mix(skyTop[2], skyLow[2], t);
        const d = Math.hypot(x - sun.x, y - sun.y);
        const glow =
          Math.exp(-d / (sun.r * 3)) * 0.5 + (1 - smoothstep(sun.r - 1.5, sun.r + 1.5, d));
        r = mix(r, 255, Math.min(1, glow));
        g = mix(g, 240, Math.min(1, glow));
        b = mix(b, 200, Math.min(1, glow));
      } else {
        const t = Math.min(1, (v - horizon) / (1 - horizon + 1e-6));
        const tex = 12 * Math.sin(x * stripeF + y * stripeF * 1.7) * Math.sin(y * 0.11 + u * 9);
        r = mix(groundFar[0], ground[0], t) + tex;
        g = mix(groundFar[1], ground[1], t) + tex;
        b = mix(groundFar[2], ground[2], t) + tex * 0.5;
        // the horizon line is a hard edge, as real ones are: lerp over one pixel only
        const edge = smoothstep(0, 1.2 / height, v - horizon);
        r = mix(skyLow[0], r, edge);
        g = mix(skyLow[1], g, edge);
        b = mix(skyLow[2], b, edge);
      }
      for (const o of blobs) {
        const dx = (x - o.x) / o.rx;
        const dy = (y - o.y) / o.ry;
        const d = dx * dx + dy * dy;
        if (d < 1.2) {
          const k = o.a * (1 - smoothstep(0.85, 1.05, d)) * (1 - 0.3 * d);
          r = mix(r, o.c[0], k);
          g = mix(g, o.c[1], k);
          b = mix(b, o.c[2], k);
        }
      }
      const n = grain ? (rnd() + rnd() + rnd() - 1.5) * 2 * grain : 0;
      const i = (y * width + x) * 3;
      out[i] = clamp8(r + n);
      out[i + 1] = clamp8(g + n);
      out[i + 2] = clamp8(b + n);
    }
  }
  return { data: out, width, height, channels: 3 };
}

/** White picture with a red 100x100 square in its top-left corner and a blue bar on its bottom edge. */
function cornerMarker(width, height) {
  const out = Buffer.alloc(width * height * 3, 255);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      if (x < 100 && y < 100) out.set([255, 0, 0], i);
      else if (y >= height - 20) out.set([0, 0, 255], i);
    }
  }
  return { data: out, width, height, channels: 3 };
}

function solid(width, height, rgba) {
  const channels = rgba.length;
  const out = Buffer.alloc(width * height * channels);
  for (let i = 0; i < width * height; i++) out.set(rgba, i * channels);
  return { data: out, width, height, channels };
}

/** Transparent (0,0,0,0) background, an opaque yellow disc with hard edges, a 50%-alpha blue square. */
function rgbaHardEdges(size) {
  const out = Buffer.alloc(size * size * 4);
  const c = size / 2;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const i = (y * size + x) * 4;
      if (Math.hypot(x + 0.5 - c, y + 0.5 - c) < size * 0.3) out.set([255, 220, 0, 255], i);
      else if (x >= size * 0.7 && y >= size * 0.7) out.set([0, 64, 255, 128], i);
    }
  }
  return { data: out, width: size, height: size, channels: 4 };
}

/** Grey + alpha: a grey ramp, opaque on the left half, fading to transparent on the right. */
function greyAlpha(width, height) {
  const out = Buffer.alloc(width * height * 2);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 2;
      out[i] = Math.round((255 * y) / (height - 1));
      out[i + 1] = x < width / 2 ? 255 : Math.round(255 * (1 - (x - width / 2) / (width / 2)));
    }
  }
  return { data: out, width, height, channels: 2 };
}

/** Sixteen flat colour bands: exactly representable with a 16-colour palette. */
function bands(width, height) {
  const out = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    const k = Math.floor((y * 16) / height);
    const rgb = [(k * 67) % 256, (k * 131 + 40) % 256, (k * 29 + 200) % 256];
    for (let x = 0; x < width; x++) out.set(rgb, (y * width + x) * 3);
  }
  return { data: out, width, height, channels: 3 };
}

/** Frames stacked vertically, each one a flat colour with a white square that moves. */
function animationFrames(width, height, colours) {
  const out = Buffer.alloc(width * height * colours.length * 3);
  colours.forEach((rgb, f) => {
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const inSquare = y >= 20 && y < 50 && x >= 10 + f * 35 && x < 40 + f * 35;
        out.set(inSquare ? [255, 255, 255] : rgb, ((f * height + y) * width + x) * 3);
      }
    }
  });
  return { data: out, width, height: height * colours.length, channels: 3, pageHeight: height };
}

const fromRaw = (img) =>
  sharp(img.data, {
    raw: {
      width: img.width,
      height: img.height,
      channels: img.channels,
      ...(img.pageHeight ? { pageHeight: img.pageHeight } : {}),
    },
  });

// ---------------------------------------------------------------------------------------------
// Hand-written bytes for broken inputs

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf) {
  let c = 0xffffffff;
  for (const byte of buf) c = CRC_TABLE[(c ^ byte) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
function pngChunk(type, data) {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}
function ihdr(width, height, colourType = 2) {
  const d = Buffer.alloc(13);
  d.writeUInt32BE(width, 0);
  d.writeUInt32BE(height, 4);
  d[8] = 8; // bit depth
  d[9] = colourType;
  return d; // compression, filter, interlace: 0
}

/** A valid PNG stream (correct CRCs) whose header declares `width` x `height` RGB pixels. */
function declaredPng(width, height) {
  const oneRow = zlib.deflateSync(Buffer.alloc(1 + Math.min(width, 4096) * 3), { level: 9 });
  return Buffer.concat([
    PNG_SIGNATURE,
    pngChunk('IHDR', ihdr(width, height)),
    pngChunk('IDAT', oneRow),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

/** Flip one bit of the CRC of the first chunk of the given type. */
function corruptChunkCrc(png, type) {
  const out = Buffer.from(png);
  let at = 8;
  while (at < out.length) {
    const len = out.readUInt32BE(at);
    if (out.toString('latin1', at + 4, at + 8) === type) {
      out[at + 8 + len] ^= 0x01;
      return out;
    }
    at += 12 + len;
  }
  throw new Error(`no ${type} chunk`);
}

/** A 2x2 24-bit Windows BMP, a format the bundled decoders do not read. */
function bmp2x2() {
  const rowBytes = 8; // 2 px * 3 bytes, padded to 4
  const pixels = Buffer.alloc(rowBytes * 2, 0x80);
  const header = Buffer.alloc(54);
  header.write('BM', 0, 'latin1');
  header.writeUInt32LE(54 + pixels.length, 2);
  header.writeUInt32LE(54, 10);
  header.writeUInt32LE(40, 14);
  header.writeInt32LE(2, 18);
  header.writeInt32LE(2, 22);
  header.writeUInt16LE(1, 26);
  header.writeUInt16LE(24, 28);
  header.writeUInt32LE(pixels.length, 34);
  return Buffer.concat([header, pixels]);
}

// ---------------------------------------------------------------------------------------------
// The fixture list: path (relative to fixtures/), what it is, how to build it, what to check

const GPS = {
  IFD0: { Make: 'imgproc fixtures', Model: 'synthetic' },
  IFD3: {
    GPSLatitudeRef: 'N',
    GPSLatitude: '48/1 51/1 2964/100',
    GPSLongitudeRef: 'E',
    GPSLongitude: '2/1 17/1 4032/100',
  },
};

const photo = (w, h, seed, opts) => fromRaw(photoLike(w, h, seed, opts));

/** @type {{path: string, note: string, build: () => Promise<Buffer>, expect?: object}[]} */
const GOOD = [
  {
    path: 'photos/meadow.jpg',
    note: 'photo-like landscape, 1600x1200 (1.9 MP), JPEG q82',
    build: () => photo(1600, 1200, 1).jpeg({ quality: 82 }).toBuffer(),
    expect: { format: 'jpeg', width: 1600, height: 1200 },
  },
  {
    path: 'photos/harbour.jpg',
    note: 'photo-like landscape, 1280x960 (1.2 MP), JPEG q82',
    build: () => photo(1280, 960, 2).jpeg({ quality: 82 }).toBuffer(),
    expect: { format: 'jpeg', width: 1280, height: 960 },
  },
  {
    path: 'photos/trips/coast.jpg',
    note: 'photo-like landscape, 1920x1080 (2.1 MP), JPEG q80, in a subfolder',
    build: () => photo(1920, 1080, 3).jpeg({ quality: 80 }).toBuffer(),
    expect: { format: 'jpeg', width: 1920, height: 1080 },
  },
  {
    path: 'photos/trips/summit.webp',
    note: 'photo-like portrait, 900x1200 (1.1 MP), WebP q80',
    build: () => photo(900, 1200, 4).webp({ quality: 80 }).toBuffer(),
    expect: { format: 'webp', width: 900, height: 1200 },
  },
  {
    path: 'photos/trips/dusk.png',
    note: 'photo-like landscape without grain, 640x480, 8-bit RGB PNG',
    build: () => photo(640, 480, 5, { grain: 0 }).png({ compressionLevel: 9 }).toBuffer(),
    expect: { format: 'png', width: 640, height: 480, channels: 3 },
  },
  {
    path: 'photos/trips/italy/café-ñ.jpg',
    note: 'non-ASCII file name (NFC), two folders deep, 480x320 JPEG',
    build: () => photo(480, 320, 6).jpeg({ quality: 80 }).toBuffer(),
    expect: { format: 'jpeg', width: 480, height: 320 },
  },
  {
    path: 'photos/日本.png',
    note: 'CJK file name, 320x240 PNG',
    build: () => photo(320, 240, 7, { grain: 0 }).png().toBuffer(),
    expect: { format: 'png', width: 320, height: 240 },
  },
  {
    path: 'photos/summer holiday 2019.jpg',
    note: 'file name with spaces, 400x300 JPEG',
    build: () => photo(400, 300, 8).jpeg({ quality: 80 }).toBuffer(),
    expect: { format: 'jpeg', width: 400, height: 300 },
  },
  {
    path: 'photos/orientation-6.jpg',
    note:
      'EXIF orientation 6: stored 300x200, displayed 200x300 (rotated 90° clockwise). Stored: white, ' +
      'red 100x100 square top-left, blue 20-px bar along the bottom. Displayed: red square top-right, ' +
      'blue bar along the left edge',
    build: () =>
      fromRaw(cornerMarker(300, 200))
        .jpeg({ quality: 90 })
        .withMetadata({ orientation: 6 })
        .toBuffer(),
    expect: { format: 'jpeg', width: 300, height: 200, orientation: 6 },
  },
  {
    path: 'photos/orientation-3.jpg',
    note:
      'EXIF orientation 3: stored 300x200, displayed 300x200 rotated 180°. Same stored picture as ' +
      'orientation-6.jpg; displayed: red square bottom-right, blue bar along the top',
    build: () =>
      fromRaw(cornerMarker(300, 200))
        .jpeg({ quality: 90 })
        .withMetadata({ orientation: 3 })
        .toBuffer(),
    expect: { format: 'jpeg', width: 300, height: 200, orientation: 3 },
  },
  {
    path: 'photos/cmyk.jpg',
    note: 'CMYK JPEG, 400x300',
    build: () => photo(400, 300, 9).toColourspace('cmyk').jpeg({ quality: 85 }).toBuffer(),
    expect: { format: 'jpeg', space: 'cmyk', channels: 4 },
  },
  {
    path: 'photos/rgb16.png',
    note: '16 bits per channel RGB PNG, 320x240',
    build: () => photo(320, 240, 10, { grain: 0 }).toColourspace('rgb16').png().toBuffer(),
    expect: { format: 'png', depth: 'ushort', space: 'rgb16' },
  },
  {
    path: 'photos/grey.jpg',
    note: 'greyscale (1-channel) JPEG, 400x300',
    build: () => photo(400, 300, 11).toColourspace('b-w').jpeg({ quality: 85 }).toBuffer(),
    expect: { format: 'jpeg', channels: 1 },
  },
  {
    path: 'photos/grey-alpha.png',
    note: 'grey + alpha (2-channel) PNG, 200x200: vertical grey ramp, right half fades to transparent',
    build: () => fromRaw(greyAlpha(200, 200)).toColourspace('b-w').png().toBuffer(),
    expect: { format: 'png', channels: 2, hasAlpha: true },
  },
  {
    path: 'photos/rgba-hard-edges.png',
    note:
      'RGBA PNG, 300x300: transparent pixels are (0,0,0,0); an opaque yellow disc with hard edges ' +
      'in the centre; a 50%-alpha blue square bottom-right. Resampling without premultiplied alpha ' +
      'darkens the disc edge',
    build: () => fromRaw(rgbaHardEdges(300)).png().toBuffer(),
    expect: { format: 'png', channels: 4, hasAlpha: true },
  },
  {
    path: 'photos/palette.png',
    note: 'indexed (palette) PNG, 256x256, sixteen flat colour bands',
    build: () => fromRaw(bands(256, 256)).png({ palette: true, colours: 16, dither: 0 }).toBuffer(),
    expect: { format: 'png', isPalette: true },
  },
  {
    path: 'photos/animated.gif',
    note: 'animated GIF, 120x90, 3 frames: red, green, blue, each with a white square; first frame red',
    build: () =>
      fromRaw(
        animationFrames(120, 90, [
          [255, 0, 0],
          [0, 255, 0],
          [0, 0, 255],
        ]),
      )
        .gif({ delay: [200, 200, 200], loop: 0 })
        .toBuffer(),
    expect: { format: 'gif', pages: 3, width: 120 },
  },
  {
    path: 'photos/tiny-1x1.png',
    note: '1x1 PNG (one mid-grey pixel)',
    build: () =>
      fromRaw(solid(1, 1, [128, 128, 128]))
        .png()
        .toBuffer(),
    expect: { format: 'png', width: 1, height: 1 },
  },
  {
    path: 'photos/small-200x150.jpg',
    note: 'narrower than the 256 px thumbnail: must not be enlarged',
    build: () => photo(200, 150, 12).jpeg({ quality: 85 }).toBuffer(),
    expect: { format: 'jpeg', width: 200, height: 150 },
  },
  {
    path: 'photos/wide-2000x8.png',
    note: 'extreme aspect ratio, 2000x8 PNG (thumb height rounds to 1 px)',
    build: () => photo(2000, 8, 13, { grain: 0 }).png().toBuffer(),
    expect: { format: 'png', width: 2000, height: 8 },
  },
  {
    path: 'photos/tall-8x2000.jpg',
    note: 'extreme aspect ratio, 8x2000 JPEG (narrower than the thumbnail)',
    build: () => photo(8, 2000, 14).jpeg({ quality: 85 }).toBuffer(),
    expect: { format: 'jpeg', width: 8, height: 2000 },
  },
  {
    path: 'photos/scan.tif',
    note: 'TIFF, 400x300, LZW with horizontal predictor',
    build: () =>
      photo(400, 300, 15, { grain: 0 })
        .tiff({ compression: 'lzw', predictor: 'horizontal' })
        .toBuffer(),
    expect: { format: 'tiff', width: 400, height: 300 },
  },
  {
    path: 'photos/small.avif',
    note: 'AVIF, 320x240',
    build: () => photo(320, 240, 16).avif({ quality: 50, effort: 4 }).toBuffer(),
    expect: { format: 'heif', width: 320, height: 240 },
  },
  {
    path: 'photos/solid-colour.png',
    note: 'one colour only (#3366CC), 640x480: the palette must still fill every colour role',
    build: () =>
      fromRaw(solid(640, 480, [0x33, 0x66, 0xcc]))
        .png()
        .toBuffer(),
    expect: { format: 'png', width: 640, height: 480 },
  },
  {
    path: 'photos/transparent.png',
    note: 'fully transparent RGBA PNG, 64x64 (every pixel alpha 0)',
    build: () =>
      fromRaw(solid(64, 64, [0, 0, 0, 0]))
        .png()
        .toBuffer(),
    expect: { format: 'png', channels: 4, hasAlpha: true },
  },
  {
    path: 'photos/gps.jpg',
    note:
      'JPEG with EXIF Make/Model and GPS position (48°51\'29.64"N 2°17\'40.32"E): outputs must not ' +
      'carry it',
    build: () => photo(400, 300, 17).jpeg({ quality: 85 }).withExif(GPS).toBuffer(),
    expect: { format: 'jpeg', gps: true },
  },
  {
    path: 'photos/display-p3.jpg',
    note:
      'JPEG with an embedded Display P3 ICC profile (pixels converted to P3): decoding must convert ' +
      'to sRGB',
    build: () => photo(400, 300, 18).withIccProfile('p3').jpeg({ quality: 90 }).toBuffer(),
    expect: { format: 'jpeg', iccDescription: /P3/ },
  },
  {
    path: 'collisions/a.jpg',
    note: 'same stem as a.png: outputs must not overwrite each other. Flat red, 300x200',
    build: () =>
      fromRaw(solid(300, 200, [255, 0, 0]))
        .jpeg({ quality: 90 })
        .toBuffer(),
    expect: { format: 'jpeg' },
  },
  {
    path: 'collisions/a.png',
    note: 'same stem as a.jpg. Flat green, 300x200',
    build: () =>
      fromRaw(solid(300, 200, [0, 255, 0]))
        .png()
        .toBuffer(),
    expect: { format: 'png' },
  },
  {
    path: 'collisions/A.webp',
    note: 'stem differing only in case: collides with a.* on case-insensitive file systems. Flat blue',
    build: () =>
      fromRaw(solid(300, 200, [0, 0, 255]))
        .webp({ lossless: true })
        .toBuffer(),
    expect: { format: 'webp' },
  },
];

const validJpeg = () => photo(400, 300, 20).jpeg({ quality: 85 }).toBuffer();
const validPng = () => photo(200, 150, 21, { grain: 0 }).png().toBuffer();
const validWebp = () => photo(400, 300, 22).webp({ quality: 80 }).toBuffer();
const half = (buf) => buf.subarray(0, Math.floor(buf.length / 2));

const BAD = [
  { path: 'bad/empty.jpg', note: '0 bytes', build: async () => Buffer.alloc(0) },
  {
    path: 'bad/truncated.jpg',
    note: 'a valid 400x300 JPEG cut in half',
    build: async () => half(await validJpeg()),
  },
  {
    path: 'bad/truncated.png',
    note: 'a valid 200x150 PNG cut in half',
    build: async () => half(await validPng()),
  },
  {
    path: 'bad/truncated.webp',
    note: 'a valid 400x300 WebP cut in half',
    build: async () => half(await validWebp()),
  },
  {
    path: 'bad/badcrc.png',
    note: 'a valid 200x150 PNG with one bit of its IDAT chunk CRC flipped',
    build: async () => corruptChunkCrc(await validPng(), 'IDAT'),
  },
  {
    path: 'bad/text.jpg',
    note: 'plain text with a .jpg name',
    build: async () =>
      Buffer.from('This is not a picture.\nJust some text with an image extension.\n'),
  },
  {
    path: 'bad/header-only.jpg',
    note: 'JPEG start and end markers and nothing between (4 bytes)',
    build: async () => Buffer.from([0xff, 0xd8, 0xff, 0xd9]),
  },
  {
    path: 'bad/bomb.png',
    note:
      'decompression bomb: valid PNG structure and CRCs, IHDR declares 100000x100000 RGB ' +
      '(10 gigapixels), one compressed row of data; rejected from the header',
    build: async () => declaredPng(100000, 100000),
  },
  {
    path: 'bad/zero-width.png',
    note: 'PNG whose IHDR declares a width of 0 (valid CRCs)',
    build: async () => declaredPng(0, 16),
  },
  {
    path: 'bad/unsupported.tif',
    note: 'a real 2x2 BMP renamed to .tif: a format no bundled decoder reads',
    build: async () => bmp2x2(),
  },
];

// ---------------------------------------------------------------------------------------------
// Checks

/** True when the EXIF block has a GPS IFD pointer (tag 0x8825) in IFD0. */
function exifHasGps(exif) {
  if (!exif) return false;
  const tiff = exif.indexOf('Exif\0\0') === 0 ? 6 : 0;
  const le = exif.toString('latin1', tiff, tiff + 2) === 'II';
  const u16 = (o) => (le ? exif.readUInt16LE(tiff + o) : exif.readUInt16BE(tiff + o));
  const u32 = (o) => (le ? exif.readUInt32LE(tiff + o) : exif.readUInt32BE(tiff + o));
  const ifd0 = u32(4);
  const entries = u16(ifd0);
  for (let i = 0; i < entries; i++) if (u16(ifd0 + 2 + i * 12) === 0x8825) return true;
  return false;
}

/** The profile's 'desc' tag: a v2 textDescriptionType (ASCII) or a v4 multiLocalizedUnicodeType. */
function iccDescription(icc) {
  if (!icc || icc.length < 132) return '';
  const count = icc.readUInt32BE(128);
  for (let i = 0; i < count; i++) {
    const entry = 132 + i * 12;
    if (icc.toString('latin1', entry, entry + 4) !== 'desc') continue;
    const at = icc.readUInt32BE(entry + 4);
    const type = icc.toString('latin1', at, at + 4);
    if (type === 'desc')
      return icc.toString('latin1', at + 12, at + 12 + icc.readUInt32BE(at + 8) - 1);
    if (type === 'mluc') {
      const len = icc.readUInt32BE(at + 20);
      const off = icc.readUInt32BE(at + 24);
      return Buffer.from(icc.subarray(at + off, at + off + len))
        .swap16()
        .toString('utf16le');
    }
  }
  return '';
}

async function checkGood(file, expect) {
  const meta = await sharp(file).metadata();
  await sharp(file).raw().toBuffer(); // a full decode, with sharp's default failOn
  const problems = [];
  for (const [key, want] of Object.entries(expect ?? {})) {
    let got;
    if (key === 'gps') got = exifHasGps(meta.exif);
    else if (key === 'iccDescription') got = iccDescription(meta.icc);
    else got = meta[key];
    const ok = want instanceof RegExp ? want.test(String(got)) : got === want;
    if (!ok) problems.push(`${key}: expected ${want}, got ${got}`);
  }
  const info =
    `${meta.format} ${meta.width}x${meta.pageHeight ?? meta.height} ${meta.space} ` +
    `${meta.channels}ch ${meta.depth}` +
    (meta.orientation ? ` o${meta.orientation}` : '') +
    (meta.pages > 1 ? ` ${meta.pages}pg` : '') +
    (meta.isPalette ? ' palette' : '') +
    (exifHasGps(meta.exif) ? ' GPS' : '') +
    (meta.icc ? ` icc=${iccDescription(meta.icc) || 'yes'}` : '');
  return { ok: problems.length === 0, info: problems.length ? problems.join('; ') : info };
}

async function checkBad(file) {
  try {
    await sharp(file).raw().toBuffer();
    return { ok: false, info: 'DECODED, but should have failed' };
  } catch (err) {
    return { ok: true, info: `rejected: ${String(err.message).split('\n')[0]}` };
  }
}

// ---------------------------------------------------------------------------------------------

const README_HEAD = `# Test fixtures

Every file in this folder except this README is generated by \`scripts/make-fixtures.mjs\`
(\`npm run fixtures\`): synthetic pixels drawn by the script and encoded with sharp, and hand-written
bytes for the broken inputs. Re-running it reproduces the same files for the same sharp version.
The pictures are generated, not photographed: licence CC0 1.0 (public domain dedication).

- \`photos/\` — good inputs: \`imgproc fixtures/photos --out processed\` must process every one and exit 0.
  No two files in one folder share a stem.
- \`collisions/\` — inputs whose outputs would share names, for the collision handling.
- \`bad/\` — broken inputs: each must be rejected with one clear line and no output files.
  (A folder named like an image and an unreadable file cannot be committed; tests create those.)

Orientation convention: "stored" is the pixel array in the file, "displayed" is after applying the
EXIF orientation.
`;

async function main() {
  for (const dir of ['photos', 'collisions', 'bad'])
    await rm(path.join(ROOT, dir), { recursive: true, force: true });
  const rows = [];
  let failures = 0;
  let total = 0;
  for (const [kind, list] of [
    ['good', GOOD],
    ['bad', BAD],
  ]) {
    for (const f of list) {
      const file = path.join(ROOT, f.path);
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(file, await f.build());
      const { size } = await stat(file);
      total += size;
      const result = kind === 'good' ? await checkGood(file, f.expect) : await checkBad(file);
      if (!result.ok) failures++;
      rows.push({ ...f, kind, size, ...result });
    }
  }
  const sections = ['photos', 'collisions', 'bad'].map((dir) => {
    const items = rows.filter((r) => r.path.startsWith(`${dir}/`));
    return (
      `\n## ${dir}/\n\n` +
      items.map((r) => `- \`${r.path}\` (${r.size} bytes): ${r.note}.`).join('\n')
    );
  });
  const readme = README_HEAD + sections.join('\n') + '\n';
  await writeFile(path.join(ROOT, 'README.md'), readme);

  const w = Math.max(...rows.map((r) => r.path.length));
  for (const r of rows) {
    console.log(
      `${r.ok ? 'ok  ' : 'FAIL'} ${r.kind.padEnd(4)} ${r.path.padEnd(w)} ${String(r.size).padStart(8)}  ${r.info}`,
    );
  }
  console.log(`${rows.length} files, ${total} bytes in all`);
  if (total > MAX_TOTAL_BYTES) {
    console.error(`fixtures are ${total} bytes, over the ${MAX_TOTAL_BYTES}-byte budget`);
    failures++;
  }
  if (failures) {
    console.error(`${failures} fixture check(s) failed`);
    process.exit(1);
  }
}

await main();
