// Corner pooling loops on a float tensor viewed as [outer, n, inner]; no TensorFlow dependency.
//
// An NHWC tensor pooled along the height is [batch, height, width * channels]; along the width it is
// [batch * height, width, channels]. `suffix` pools run towards higher indices (top, left:
// y[i] = max(x[i:])), prefix pools towards lower ones (bottom, right: y[i] = max(x[:i+1])).
// Work is cut into units of (outer row, block of at most kInnerBlock inner columns) so that a thread
// pool can shard it; each unit touches a disjoint part of the output.
#ifndef ECCV20ZOO_OPS_KERNELS_CORNER_POOL_H_
#define ECCV20ZOO_OPS_KERNELS_CORNER_POOL_H_

#include <cstdint>

namespace eccv20zoo {

constexpr int64_t kInnerBlock = 1024;

struct PoolView {
  int64_t outer = 0;    // independent rows (batch, or batch * height)
  int64_t n = 0;        // the pooled axis
  int64_t inner = 0;    // contiguous columns pooled in lockstep
  bool suffix = false;  // true: y[i] = max(x[i:]); false: y[i] = max(x[:i+1])

  int64_t blocks() const { return (inner + kInnerBlock - 1) / kInnerBlock; }
  int64_t units() const { return outer * blocks(); }
};

// The view of a 4-D NHWC shape for a direction: "top", "bottom", "left" or "right".
// Returns false for an unknown direction.
bool MakePoolView(const int64_t shape[4], const char* direction, PoolView* view);

// y = corner pool of x for the work units [begin, end).
void CornerPoolForward(const PoolView& view, const float* x, float* y, int64_t begin, int64_t end);

// dx for the work units [begin, end): each output's gradient dy[i] goes to the NEAREST index j
// (j >= i for suffix pools, j <= i for prefix pools) with x[j] == y[i]. This is the gradient
// TensorFlow derives for the keras.ops composite (Maximum sends ties to its first argument, the
// nearer half of the window). NaN inputs: the forward propagates NaN like tf.maximum; the gradient
// of a NaN window is unspecified.
void CornerPoolBackward(const PoolView& view, const float* x, const float* dy, float* dx, int64_t begin,
                        int64_t end);

}  // namespace eccv20zoo

#endif  // ECCV20ZOO_OPS_KERNELS_CORNER_POOL_H_
