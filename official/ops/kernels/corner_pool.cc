// The corner pooling loops declared in corner_pool.h.
#include "corner_pool.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

namespace eccv20zoo {
namespace {

// max that propagates NaN like tf.maximum: a NaN on either side gives NaN.
inline float MaxNaN(float a, float b) { return (a > b || a != a) ? a : b; }

struct Unit {
  int64_t base;   // offset of (outer row, first column)
  int64_t width;  // columns in this unit
};

inline Unit UnitAt(const PoolView& v, int64_t u) {
  const int64_t row = u / v.blocks();
  const int64_t first = (u % v.blocks()) * kInnerBlock;
  return {row * v.n * v.inner + first, std::min(kInnerBlock, v.inner - first)};
}

}  // namespace

bool MakePoolView(const int64_t shape[4], const char* direction, PoolView* view) {
  const bool height = !std::strcmp(direction, "top") || !std::strcmp(direction, "bottom");
  const bool width = !std::strcmp(direction, "left") || !std::strcmp(direction, "right");
  if (!height && !width) return false;
  if (height) {
    *view = {shape[0], shape[1], shape[2] * shape[3], !std::strcmp(direction, "top")};
  } else {
    *view = {shape[0] * shape[1], shape[2], shape[3], !std::strcmp(direction, "left")};
  }
  return true;
}

void CornerPoolForward(const PoolView& v, const float* x, float* y, int64_t begin, int64_t end) {
  if (v.n == 0) return;
  const int64_t stride = v.inner;
  for (int64_t u = begin; u < end; ++u) {
    const Unit unit = UnitAt(v, u);
    // Visit the pooled axis from the end the max accumulates from.
    const int64_t first = v.suffix ? v.n - 1 : 0;
    const int64_t step = v.suffix ? -1 : 1;
    const float* xs = x + unit.base;
    float* ys = y + unit.base;
    std::copy(xs + first * stride, xs + first * stride + unit.width, ys + first * stride);
    for (int64_t t = 1; t < v.n; ++t) {
      const int64_t i = first + step * t;
      const float* xi = xs + i * stride;
      const float* prev = ys + (i - step) * stride;
      float* yi = ys + i * stride;
      for (int64_t k = 0; k < unit.width; ++k) yi[k] = MaxNaN(xi[k], prev[k]);
    }
  }
}

void CornerPoolBackward(const PoolView& v, const float* x, const float* dy, float* dx, int64_t begin,
                        int64_t end) {
  if (v.n == 0) return;
  const int64_t stride = v.inner;
  std::vector<float> best(kInnerBlock);
  std::vector<int64_t> where(kInnerBlock);
  for (int64_t u = begin; u < end; ++u) {
    const Unit unit = UnitAt(v, u);
    const int64_t first = v.suffix ? v.n - 1 : 0;
    const int64_t step = v.suffix ? -1 : 1;
    const float* xs = x + unit.base;
    const float* dys = dy + unit.base;
    float* dxs = dx + unit.base;
    for (int64_t t = 0; t < v.n; ++t) {
      float* row = dxs + t * stride;
      std::fill(row, row + unit.width, 0.0f);
    }
    std::fill(best.begin(), best.begin() + unit.width, -std::numeric_limits<float>::infinity());
    std::fill(where.begin(), where.begin() + unit.width, first);
    for (int64_t t = 0; t < v.n; ++t) {
      const int64_t i = first + step * t;
      const float* xi = xs + i * stride;
      const float* dyi = dys + i * stride;
      for (int64_t k = 0; k < unit.width; ++k) {
        // `>=`: an equal value at i is nearer to output i than the earlier maximum, so it wins.
        if (xi[k] >= best[k]) {
          best[k] = xi[k];
          where[k] = i;
        }
        dxs[where[k] * stride + k] += dyi[k];
      }
    }
  }
}

}  // namespace eccv20zoo
