// Point-cloud loops (PointNet++ sampling / grouping / interpolation) on float32 / int32 buffers; no
// TensorFlow dependency. The kernels of point_kernels.cc shard them over TensorFlow's thread pool.
//
// Layouts are dense row-major: positions (batch, points, 3), features (batch, points, channels).
// Squared distances are summed per coordinate, dx*dx + dy*dy + dz*dz, in the same order as the
// keras.ops composites of official/ops/point_ops.py, so both see the same ball edges and ties.
// Each function handles one work unit (a batch item, a query, or a (batch, channel block) pair) and
// writes a disjoint part of its output, so units run in any order on any thread.
#ifndef ECCV20ZOO_OPS_KERNELS_POINT_H_
#define ECCV20ZOO_OPS_KERNELS_POINT_H_

#include <cstdint>

namespace eccv20zoo {

constexpr int64_t kChannelBlock = 64;  // channels per unit of the scatter-add gradients

// Squared distance between two 3-vectors, summed x, y, z in that order.
inline float SqDist3(const float* a, const float* b) {
  const float dx = a[0] - b[0];
  const float dy = a[1] - b[1];
  const float dz = a[2] - b[2];
  return dx * dx + dy * dy + dz * dz;
}

// Farthest point sample of one cloud xyz (n, 3): out[0] = 0, then out[i] = the point farthest from
// {out[0..i-1]} (the first on a tie). `nearest` is scratch for n floats.
void FarthestPointSampleOne(const float* xyz, int64_t n, int64_t num_samples, float* nearest, int32_t* out);

// Ball query of one centre: the first k indices j (in index order) with SqDist3 < radius_sq, the
// remaining slots filled with the first one found, or 0 when none is.
void BallQueryOne(const float* xyz, int64_t n, const float* center, float radius_sq, int64_t k, int32_t* out);

// The k nearest of n points to one query, ascending by (squared distance, index): lower index first
// on a tie, like tf.math.top_k. Requires k <= n.
void KnnOne(const float* xyz, int64_t n, const float* query, int64_t k, float* dist, int32_t* idx);

// out[row] = features[b, idx[row]] for rows [begin, end) of the (batch * p) index rows; c channels.
void GatherRows(const float* features, int64_t n, int64_t c, const int32_t* idx, int64_t p, float* out,
                int64_t begin, int64_t end);

// dx[b, idx[b, j]] += dy[b, j] for the units [begin, end) of (batch, channel block); dx starts zeroed.
void GatherRowsGrad(const int32_t* idx, int64_t p, const float* dy, int64_t n, int64_t c, float* dx,
                    int64_t begin, int64_t end);

// out[b, m] = sum_j weight[b, m, j] * features[b, idx[b, m, j]] (j < 3) for rows [begin, end) of batch * m.
void ThreeInterpolateRows(const float* features, int64_t n, int64_t c, const int32_t* idx, const float* weight,
                          int64_t m, float* out, int64_t begin, int64_t end);

// Its gradient in the features: dx[b, idx[b, m, j]] += weight[b, m, j] * dy[b, m] for the units
// [begin, end) of (batch, channel block); dx starts zeroed.
void ThreeInterpolateGrad(const int32_t* idx, const float* weight, int64_t m, const float* dy, int64_t n,
                          int64_t c, float* dx, int64_t begin, int64_t end);

inline int64_t ChannelBlocks(int64_t c) { return (c + kChannelBlock - 1) / kChannelBlock; }

}  // namespace eccv20zoo

#endif  // ECCV20ZOO_OPS_KERNELS_POINT_H_
