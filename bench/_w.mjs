import sharp from 'sharp';
for (const [w, h] of [[262144, 32], [262144, 64], [262144, 128]])
  await sharp({ create: { width: w, height: h, channels: 3, background: '#000' } }).png({ compressionLevel: 9 }).toFile(`/tmp/v9/s${h}.png`);
