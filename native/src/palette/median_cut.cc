#include "median_cut.h"

#include <algorithm>
#include <array>

namespace imgproc::palette {
namespace {

// A set of pixels packed[start..end) and its bounding box's widest channel (0 red, 1 green, 2 blue).
struct Box {
  size_t start, end;
  int channel;
  int range;
  bool hasMean = false;
  Entry mean{};
};

Box Measure(const std::vector<uint32_t>& packed, size_t start, size_t end) {
  int minR = 255, minG = 255, minB = 255, maxR = 0, maxG = 0, maxB = 0;
  for (size_t i = start; i < end; ++i) {
    const uint32_t p = packed[i];
    const int r = static_cast<int>(p >> 16), g = static_cast<int>((p >> 8) & 0xff), b = static_cast<int>(p & 0xff);
    minR = std::min(minR, r);
    maxR = std::max(maxR, r);
    minG = std::min(minG, g);
    maxG = std::max(maxG, g);
    minB = std::min(minB, b);
    maxB = std::max(maxB, b);
  }
  const std::array<int, 3> ranges{maxR - minR, maxG - minG, maxB - minB};
  int channel = 0;
  if (ranges[1] > ranges[channel]) channel = 1;
  if (ranges[2] > ranges[channel]) channel = 2;
  return Box{start, end, channel, ranges[channel]};
}

// In place, at the pixel-weighted median of the box's widest channel; both halves non-empty.
std::array<Box, 2> Split(std::vector<uint32_t>& packed, const Box& box) {
  const int shift = 16 - 8 * box.channel;
  std::array<uint32_t, 256> histogram{};
  int lo = 255, hi = 0;
  for (size_t i = box.start; i < box.end; ++i) {
    const int v = static_cast<int>((packed[i] >> shift) & 0xff);
    ++histogram[v];
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  // seen < n / 2, in integers.
  const uint64_t n = box.end - box.start;
  int cut = lo;
  for (uint64_t seen = histogram[lo]; 2 * seen < n; seen += histogram[cut]) ++cut;
  cut = std::min(cut, hi - 1);
  // The same partition as the TypeScript, so both leave the pixels in the same order.
  size_t i = box.start;
  size_t j = box.end - 1;
  while (i <= j) {
    const uint32_t p = packed[i];
    if (static_cast<int>((p >> shift) & 0xff) <= cut) {
      ++i;
    } else {
      packed[i] = packed[j];
      packed[j] = p;
      if (j == 0) break;
      --j;
    }
  }
  return {Measure(packed, box.start, i), Measure(packed, i, box.end)};
}

// Math.round(sum / count) for non-negative integers: half rounds up.
int32_t RoundedMean(uint64_t sum, uint64_t count) {
  return static_cast<int32_t>((2 * sum + count) / (2 * count));
}

Entry MeanColour(const std::vector<uint32_t>& packed, Box& box) {
  if (!box.hasMean) {
    uint64_t r = 0, g = 0, b = 0;
    for (size_t i = box.start; i < box.end; ++i) {
      const uint32_t p = packed[i];
      r += p >> 16;
      g += (p >> 8) & 0xff;
      b += p & 0xff;
    }
    const uint64_t count = box.end - box.start;
    box.mean = Entry{RoundedMean(r, count), RoundedMean(g, count), RoundedMean(b, count),
                     static_cast<int32_t>(count)};
    box.hasMean = true;
  }
  return box.mean;
}

// Most populous first; ties: lower hex first, then the boxes' order (the sort is stable, as V8's).
std::vector<Entry> EntriesOf(const std::vector<uint32_t>& packed, std::vector<Box>& boxes) {
  std::vector<Entry> entries;
  entries.reserve(boxes.size());
  for (Box& box : boxes) entries.push_back(MeanColour(packed, box));
  const auto hex = [](const Entry& e) { return (e.r << 16) + (e.g << 8) + e.b; };
  std::stable_sort(entries.begin(), entries.end(), [&](const Entry& p, const Entry& q) {
    if (p.count != q.count) return p.count > q.count;
    return hex(p) < hex(q);
  });
  return entries;
}

}  // namespace

std::vector<std::vector<Entry>> MedianCutSteps(const uint8_t* pixels, size_t bytes, int channels,
                                               int fewest, int most) {
  std::vector<std::vector<Entry>> steps;
  const size_t n = bytes / static_cast<size_t>(channels);
  std::vector<uint32_t> packed;
  packed.reserve(n);
  for (size_t i = 0, o = 0; i < n; ++i, o += static_cast<size_t>(channels)) {
    if (channels == 4 && pixels[o + 3] < kOpaqueAlpha) continue;
    packed.push_back((static_cast<uint32_t>(pixels[o]) << 16) | (static_cast<uint32_t>(pixels[o + 1]) << 8) |
                     pixels[o + 2]);
  }
  if (packed.empty()) {
    steps.emplace_back();
    return steps;
  }
  std::vector<Box> boxes{Measure(packed, 0, packed.size())};
  for (;;) {
    if (static_cast<int>(boxes.size()) >= fewest) steps.push_back(EntriesOf(packed, boxes));
    if (static_cast<int>(boxes.size()) >= most) return steps;
    // Widest range x population: the first box with the highest score.
    int best = -1;
    uint64_t bestScore = 0;
    for (size_t k = 0; k < boxes.size(); ++k) {
      const uint64_t score = static_cast<uint64_t>(boxes[k].range) * (boxes[k].end - boxes[k].start);
      if (score > bestScore) {
        best = static_cast<int>(k);
        bestScore = score;
      }
    }
    if (best < 0) {
      // Every box holds a single colour.
      if (static_cast<int>(boxes.size()) < fewest) steps.push_back(EntriesOf(packed, boxes));
      return steps;
    }
    const std::array<Box, 2> halves = Split(packed, boxes[static_cast<size_t>(best)]);
    boxes[static_cast<size_t>(best)] = halves[0];
    boxes.insert(boxes.begin() + best + 1, halves[1]);
  }
}

}  // namespace imgproc::palette
