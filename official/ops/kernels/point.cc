// The point-cloud loops declared in point.h.
#include "point.h"

#include <algorithm>
#include <cstring>

namespace eccv20zoo {

void FarthestPointSampleOne(const float* xyz, int64_t n, int64_t num_samples, float* nearest, int32_t* out) {
  if (num_samples == 0) return;
  std::fill(nearest, nearest + n, 1e10f);  // the composite's initial distance
  int64_t last = 0;
  out[0] = 0;
  for (int64_t i = 1; i < num_samples; ++i) {
    const float* chosen = xyz + 3 * last;
    float best = -1.0f;
    int64_t best_j = 0;
    for (int64_t j = 0; j < n; ++j) {
      const float d = SqDist3(xyz + 3 * j, chosen);
      if (d < nearest[j]) nearest[j] = d;
      if (nearest[j] > best) {  // strict: the first maximum wins, like argmax
        best = nearest[j];
        best_j = j;
      }
    }
    out[i] = static_cast<int32_t>(best_j);
    last = best_j;
  }
}

void BallQueryOne(const float* xyz, int64_t n, const float* center, float radius_sq, int64_t k, int32_t* out) {
  int64_t found = 0;
  for (int64_t j = 0; j < n && found < k; ++j) {
    if (SqDist3(center, xyz + 3 * j) < radius_sq) out[found++] = static_cast<int32_t>(j);
  }
  const int32_t pad = found ? out[0] : 0;
  for (int64_t s = found; s < k; ++s) out[s] = pad;
}

void KnnOne(const float* xyz, int64_t n, const float* query, int64_t k, float* dist, int32_t* idx) {
  if (k == 0) return;
  // A sorted buffer of the best k so far; points arrive in index order, so inserting a new point
  // after every equal distance keeps ties in index order.
  int64_t size = 0;
  for (int64_t j = 0; j < n; ++j) {
    const float d = SqDist3(query, xyz + 3 * j);
    if (size == k && !(d < dist[k - 1])) continue;
    int64_t pos = size < k ? size : k - 1;
    while (pos > 0 && d < dist[pos - 1]) {
      dist[pos] = dist[pos - 1];
      idx[pos] = idx[pos - 1];
      --pos;
    }
    dist[pos] = d;
    idx[pos] = static_cast<int32_t>(j);
    if (size < k) ++size;
  }
}

void GatherRows(const float* features, int64_t n, int64_t c, const int32_t* idx, int64_t p, float* out,
                int64_t begin, int64_t end) {
  for (int64_t row = begin; row < end; ++row) {
    const int64_t b = row / p;
    const float* src = features + (b * n + idx[row]) * c;
    std::memcpy(out + row * c, src, sizeof(float) * c);
  }
}

void GatherRowsGrad(const int32_t* idx, int64_t p, const float* dy, int64_t n, int64_t c, float* dx,
                    int64_t begin, int64_t end) {
  const int64_t blocks = ChannelBlocks(c);
  for (int64_t u = begin; u < end; ++u) {
    const int64_t b = u / blocks;
    const int64_t c0 = (u % blocks) * kChannelBlock;
    const int64_t c1 = std::min(c, c0 + kChannelBlock);
    float* dxb = dx + b * n * c;
    for (int64_t j = 0; j < p; ++j) {
      const float* g = dy + (b * p + j) * c;
      float* dst = dxb + idx[b * p + j] * c;
      for (int64_t ch = c0; ch < c1; ++ch) dst[ch] += g[ch];
    }
  }
}

void ThreeInterpolateRows(const float* features, int64_t n, int64_t c, const int32_t* idx, const float* weight,
                          int64_t m, float* out, int64_t begin, int64_t end) {
  for (int64_t row = begin; row < end; ++row) {
    const int64_t b = row / m;
    const int32_t* i = idx + 3 * row;
    const float* w = weight + 3 * row;
    const float* f0 = features + (b * n + i[0]) * c;
    const float* f1 = features + (b * n + i[1]) * c;
    const float* f2 = features + (b * n + i[2]) * c;
    float* o = out + row * c;
    for (int64_t ch = 0; ch < c; ++ch) o[ch] = w[0] * f0[ch] + w[1] * f1[ch] + w[2] * f2[ch];
  }
}

void ThreeInterpolateGrad(const int32_t* idx, const float* weight, int64_t m, const float* dy, int64_t n,
                          int64_t c, float* dx, int64_t begin, int64_t end) {
  const int64_t blocks = ChannelBlocks(c);
  for (int64_t u = begin; u < end; ++u) {
    const int64_t b = u / blocks;
    const int64_t c0 = (u % blocks) * kChannelBlock;
    const int64_t c1 = std::min(c, c0 + kChannelBlock);
    float* dxb = dx + b * n * c;
    for (int64_t row = b * m; row < (b + 1) * m; ++row) {
      const float* g = dy + row * c;
      for (int64_t j = 0; j < 3; ++j) {
        const float w = weight[3 * row + j];
        float* dst = dxb + idx[3 * row + j] * c;
        for (int64_t ch = c0; ch < c1; ++ch) dst[ch] += w * g[ch];
      }
    }
  }
}

}  // namespace eccv20zoo
