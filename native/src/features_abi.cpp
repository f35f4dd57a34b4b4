// The C ABI's surrogate features, which need no engine: block means of uint8 images, the features a
// linear surrogate is fitted on when an image has more than 1,024 values (dev.dyepack.surrogate.
// PooledFeatures documents the map; PooledFeaturesTest compares this with its Java loop).
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "dyepack/dyepack.h"
#include "error.h"

namespace {

// Adds `rows` consecutive rows of `n` bytes each (`stride` apart) into acc[0 .. n): a plain loop the
// compiler vectorises (16-bit lanes would overflow past 257 rows; 32 bits hold 16 million rows of 255).
void add_rows(const uint8_t *row, int64_t rows, int64_t n, int64_t stride, uint32_t *acc) {
  for (int64_t r = 0; r < rows; ++r, row += stride)
    for (int64_t i = 0; i < n; ++i) acc[i] += row[i];
}

// One image: the sums of every factor x factor block of every channel, in (block row, block column,
// channel) order, then each divided in double by 255 times the block's pixel count and rounded once.
void block_means(const uint8_t *image, int64_t c, int64_t h, int64_t w, bool nchw, int64_t f, float *out,
                 std::vector<uint32_t> &acc) {
  const int64_t bh = (h + f - 1) / f, bw = (w + f - 1) / f;
  for (int64_t by = 0; by < bh; ++by) {
    const int64_t y0 = by * f, rows = std::min(f, h - y0);
    if (!nchw) {
      // A block row of an NHWC image: its rows summed element by element (w * c values), then each run of
      // f pixels folded into its block, per channel.
      std::fill(acc.begin(), acc.begin() + w * c, 0u);
      add_rows(image + y0 * w * c, rows, w * c, w * c, acc.data());
      for (int64_t bx = 0; bx < bw; ++bx) {
        const int64_t x0 = bx * f, cols = std::min(f, w - x0);
        const double count = 255.0 * double(rows) * double(cols);
        for (int64_t ch = 0; ch < c; ++ch) {
          uint64_t sum = 0;
          for (int64_t x = x0; x < x0 + cols; ++x) sum += acc[x * c + ch];
          out[(by * bw + bx) * c + ch] = float(double(sum) / count);
        }
      }
    } else {
      for (int64_t ch = 0; ch < c; ++ch) {
        std::fill(acc.begin(), acc.begin() + w, 0u);
        add_rows(image + (ch * h + y0) * w, rows, w, w, acc.data());
        for (int64_t bx = 0; bx < bw; ++bx) {
          const int64_t x0 = bx * f, cols = std::min(f, w - x0);
          uint64_t sum = 0;
          for (int64_t x = x0; x < x0 + cols; ++x) sum += acc[x];
          out[(by * bw + bx) * c + ch] = float(double(sum) / (255.0 * double(rows) * double(cols)));
        }
      }
    }
  }
}

}  // namespace

extern "C" {

int32_t dp_block_means_u8(const uint8_t *images, int64_t count, int64_t c, int64_t h, int64_t w, int32_t nchw,
                          int64_t factor, float *out) {
  return dp::guarded([&] {
    if (count < 0) dp::invalid("count is negative: " + std::to_string(count));
    if (c < 1 || h < 1 || w < 1)
      dp::invalid("an image of " + std::to_string(c) + " x " + std::to_string(h) + " x " + std::to_string(w) +
                  " has no block means");
    if (factor < 1 || factor > std::max(h, w))
      dp::invalid("block size " + std::to_string(factor) + " is outside [1, " + std::to_string(std::max(h, w)) + "]");
    if (c > INT64_MAX / h || c * h > INT64_MAX / w) dp::invalid("the image's size overflows");
    if (count == 0) return;
    if (images == nullptr || out == nullptr) dp::invalid("images and out must not be null");
    const int64_t per = c * h * w;
    const int64_t dim = ((h + factor - 1) / factor) * ((w + factor - 1) / factor) * c;
    std::vector<uint32_t> acc(size_t(w * c));
    for (int64_t s = 0; s < count; ++s) block_means(images + s * per, c, h, w, nchw != 0, factor, out + s * dim, acc);
  });
}

}  // extern "C"
