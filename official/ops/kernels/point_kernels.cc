// CPU OpKernels of the point-cloud ops: shape and index checks, then the loops of point.cc sharded
// over TensorFlow's intra-op thread pool (units: batch items, queries, or (batch, channel block)).
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "point.h"
#include "tensorflow/core/framework/op_kernel.h"
#include "tensorflow/core/framework/tensor.h"
#include "tensorflow/core/util/work_sharder.h"

namespace eccv20zoo {

using ::tensorflow::OpKernel;
using ::tensorflow::OpKernelConstruction;
using ::tensorflow::OpKernelContext;
using ::tensorflow::Tensor;
using ::tensorflow::TensorShape;
using ::tensorflow::register_kernel::Name;

namespace {

template <typename Fn>
void ShardUnits(OpKernelContext* ctx, int64_t units, int64_t cost_per_unit, Fn fn) {
  if (units <= 0) return;
  const auto* threads = ctx->device()->tensorflow_cpu_worker_threads();
  ::tensorflow::Shard(threads->num_threads, threads->workers, units, cost_per_unit, fn);
}

std::string Shape(const Tensor& t) { return t.shape().DebugString(); }

// OK when `t` is (batch, points, 3); `what` names the op and input in the error.
absl::Status CheckPositions(const Tensor& t, const char* what) {
  if (t.dims() != 3 || t.dim_size(2) != 3) {
    return absl::InvalidArgumentError(std::string(what) + " must be (batch, points, 3), got " + Shape(t));
  }
  return absl::OkStatus();
}

absl::Status CheckSameBatch(const Tensor& a, const Tensor& b, const char* what) {
  if (a.dim_size(0) != b.dim_size(0)) {
    return absl::InvalidArgumentError(std::string(what) + ": batch sizes differ, " + Shape(a) + " vs " + Shape(b));
  }
  return absl::OkStatus();
}

// OK when every index lies in [0, n).
absl::Status CheckIndices(const Tensor& indices, int64_t n, const char* what) {
  const auto flat = indices.flat<int32_t>();
  for (int64_t i = 0; i < flat.size(); ++i) {
    if (flat(i) < 0 || flat(i) >= n) {
      return absl::InvalidArgumentError(std::string(what) + ": index " + std::to_string(flat(i)) +
                                        " at flat position " + std::to_string(i) + " is outside [0, " +
                                        std::to_string(n) + ")");
    }
  }
  return absl::OkStatus();
}

const float* F(const Tensor& t) { return t.flat<float>().data(); }
const int32_t* I(const Tensor& t) { return t.flat<int32_t>().data(); }

class FarthestPointSampleOp : public OpKernel {
 public:
  explicit FarthestPointSampleOp(OpKernelConstruction* ctx) : OpKernel(ctx) {
    OP_REQUIRES_OK(ctx, ctx->GetAttr("num_samples", &num_samples_));
  }

  void Compute(OpKernelContext* ctx) override {
    const Tensor& points = ctx->input(0);
    OP_REQUIRES_OK(ctx, CheckPositions(points, "farthest_point_sample: points"));
    const int64_t batch = points.dim_size(0), n = points.dim_size(1), s = num_samples_;
    OP_REQUIRES(ctx, s <= n,
                absl::InvalidArgumentError("farthest_point_sample: num_samples=" + std::to_string(s) +
                                           " exceeds the " + std::to_string(n) + " points"));
    Tensor* out = nullptr;
    OP_REQUIRES_OK(ctx, ctx->allocate_output(0, TensorShape({batch, s}), &out));
    const float* xyz = F(points);
    int32_t* idx = out->flat<int32_t>().data();
    // FPS is sequential in the samples: one unit per batch item.
    ShardUnits(ctx, batch, n * s * 12, [&](int64_t begin, int64_t end) {
      std::vector<float> nearest(n);
      for (int64_t b = begin; b < end; ++b) {
        FarthestPointSampleOne(xyz + b * n * 3, n, s, nearest.data(), idx + b * s);
      }
    });
  }

 private:
  int64_t num_samples_ = 0;
};

class BallQueryOp : public OpKernel {
 public:
  explicit BallQueryOp(OpKernelConstruction* ctx) : OpKernel(ctx) {
    OP_REQUIRES_OK(ctx, ctx->GetAttr("radius_sq", &radius_sq_));
    OP_REQUIRES_OK(ctx, ctx->GetAttr("max_samples", &k_));
  }

  void Compute(OpKernelContext* ctx) override {
    const Tensor& points = ctx->input(0);
    const Tensor& centers = ctx->input(1);
    OP_REQUIRES_OK(ctx, CheckPositions(points, "ball_query: points"));
    OP_REQUIRES_OK(ctx, CheckPositions(centers, "ball_query: centers"));
    OP_REQUIRES_OK(ctx, CheckSameBatch(points, centers, "ball_query"));
    const int64_t batch = points.dim_size(0), n = points.dim_size(1), s = centers.dim_size(1), k = k_;
    Tensor* out = nullptr;
    OP_REQUIRES_OK(ctx, ctx->allocate_output(0, TensorShape({batch, s, k}), &out));
    const float* xyz = F(points);
    const float* ctr = F(centers);
    int32_t* idx = out->flat<int32_t>().data();
    const float r2 = radius_sq_;
    ShardUnits(ctx, batch * s, n * 8, [&](int64_t begin, int64_t end) {
      for (int64_t q = begin; q < end; ++q) BallQueryOne(xyz + (q / s) * n * 3, n, ctr + q * 3, r2, k, idx + q * k);
    });
  }

 private:
  float radius_sq_ = 0.0f;
  int64_t k_ = 0;
};

// The k nearest of `points` to each of `queries`: (batch * m, k) distances and indices.
absl::Status NearestK(OpKernelContext* ctx, const Tensor& points, const Tensor& queries, int64_t k,
                      const char* what, Tensor** dist, Tensor** idx) {
  TF_RETURN_IF_ERROR(CheckPositions(points, what));
  TF_RETURN_IF_ERROR(CheckPositions(queries, what));
  TF_RETURN_IF_ERROR(CheckSameBatch(points, queries, what));
  const int64_t batch = points.dim_size(0), n = points.dim_size(1), m = queries.dim_size(1);
  if (k > n) {
    return absl::InvalidArgumentError(std::string(what) + ": k=" + std::to_string(k) + " exceeds the " +
                                      std::to_string(n) + " points");
  }
  TF_RETURN_IF_ERROR(ctx->allocate_output(0, TensorShape({batch, m, k}), dist));
  TF_RETURN_IF_ERROR(ctx->allocate_output(1, TensorShape({batch, m, k}), idx));
  const float* xyz = F(points);
  const float* qry = F(queries);
  float* d = (*dist)->flat<float>().data();
  int32_t* i = (*idx)->flat<int32_t>().data();
  ShardUnits(ctx, batch * m, n * 10, [&](int64_t begin, int64_t end) {
    for (int64_t q = begin; q < end; ++q) KnnOne(xyz + (q / m) * n * 3, n, qry + q * 3, k, d + q * k, i + q * k);
  });
  return absl::OkStatus();
}

class KnnOp : public OpKernel {
 public:
  explicit KnnOp(OpKernelConstruction* ctx) : OpKernel(ctx) { OP_REQUIRES_OK(ctx, ctx->GetAttr("k", &k_)); }

  void Compute(OpKernelContext* ctx) override {
    Tensor *dist = nullptr, *idx = nullptr;
    OP_REQUIRES_OK(ctx, NearestK(ctx, ctx->input(0), ctx->input(1), k_, "knn", &dist, &idx));
  }

 private:
  int64_t k_ = 0;
};

class ThreeNNOp : public OpKernel {
 public:
  using OpKernel::OpKernel;

  void Compute(OpKernelContext* ctx) override {
    Tensor *dist = nullptr, *idx = nullptr;
    // inputs: unknown (the queries), known (the points)
    OP_REQUIRES_OK(ctx, NearestK(ctx, ctx->input(1), ctx->input(0), 3, "three_nn", &dist, &idx));
    auto d = dist->flat<float>();
    for (int64_t i = 0; i < d.size(); ++i) d(i) = std::sqrt(std::max(d(i), 0.0f));
  }
};

class GatherPointsOp : public OpKernel {
 public:
  using OpKernel::OpKernel;

  void Compute(OpKernelContext* ctx) override {
    const Tensor& features = ctx->input(0);
    const Tensor& indices = ctx->input(1);
    OP_REQUIRES(ctx, features.dims() == 3,
                absl::InvalidArgumentError("gather_points: features must be (batch, points, channels), got " +
                                           Shape(features)));
    OP_REQUIRES(ctx, indices.dims() >= 1 && indices.dim_size(0) == features.dim_size(0),
                absl::InvalidArgumentError("gather_points: indices " + Shape(indices) +
                                           " must start with the batch of features " + Shape(features)));
    const int64_t batch = features.dim_size(0), n = features.dim_size(1), c = features.dim_size(2);
    OP_REQUIRES_OK(ctx, CheckIndices(indices, n, "gather_points"));
    TensorShape shape = indices.shape();
    shape.AddDim(c);
    Tensor* out = nullptr;
    OP_REQUIRES_OK(ctx, ctx->allocate_output(0, shape, &out));
    if (batch == 0) return;
    const int64_t p = indices.NumElements() / batch;
    const float* f = F(features);
    const int32_t* idx = I(indices);
    float* o = out->flat<float>().data();
    ShardUnits(ctx, batch * p, c * 2 + 10,
               [&](int64_t begin, int64_t end) { GatherRows(f, n, c, idx, p, o, begin, end); });
  }
};

// The (batch, num_points, channels) output of a scatter-add gradient, zeroed; n from input `n_input`.
absl::Status ScatterOutput(OpKernelContext* ctx, int n_input, int64_t batch, int64_t c, int64_t* n, Tensor** dx) {
  const Tensor& num_points = ctx->input(n_input);
  if (num_points.dims() != 0 || num_points.scalar<int32_t>()() < 0) {
    return absl::InvalidArgumentError("num_points must be a non-negative scalar, got " + Shape(num_points));
  }
  *n = num_points.scalar<int32_t>()();
  TF_RETURN_IF_ERROR(ctx->allocate_output(0, TensorShape({batch, *n, c}), dx));
  (*dx)->flat<float>().setZero();
  return absl::OkStatus();
}

class GatherPointsGradOp : public OpKernel {
 public:
  using OpKernel::OpKernel;

  void Compute(OpKernelContext* ctx) override {
    const Tensor& indices = ctx->input(0);
    const Tensor& grad = ctx->input(1);
    OP_REQUIRES(ctx, indices.dims() >= 1 && grad.dims() == indices.dims() + 1,
                absl::InvalidArgumentError("gather_points grad: grad " + Shape(grad) + " must be indices " +
                                           Shape(indices) + " + (channels,)"));
    for (int d = 0; d < indices.dims(); ++d) {
      OP_REQUIRES(ctx, grad.dim_size(d) == indices.dim_size(d),
                  absl::InvalidArgumentError("gather_points grad: grad " + Shape(grad) + " must be indices " +
                                             Shape(indices) + " + (channels,)"));
    }
    const int64_t batch = indices.dim_size(0), c = grad.dim_size(grad.dims() - 1);
    int64_t n = 0;
    Tensor* dx = nullptr;
    OP_REQUIRES_OK(ctx, ScatterOutput(ctx, 2, batch, c, &n, &dx));
    OP_REQUIRES_OK(ctx, CheckIndices(indices, n, "gather_points grad"));
    if (batch == 0 || c == 0) return;
    const int64_t p = indices.NumElements() / batch;
    const int32_t* idx = I(indices);
    const float* dy = F(grad);
    float* out = dx->flat<float>().data();
    ShardUnits(ctx, batch * ChannelBlocks(c), p * kChannelBlock * 2,
               [&](int64_t begin, int64_t end) { GatherRowsGrad(idx, p, dy, n, c, out, begin, end); });
  }
};

// OK when indices and weights are both (batch, m, 3) with the batch of `batch_of`.
absl::Status CheckNeighbours(const Tensor& indices, const Tensor& weights, int64_t batch, const char* what) {
  if (indices.dims() != 3 || indices.dim_size(2) != 3 || indices.shape() != weights.shape() ||
      indices.dim_size(0) != batch) {
    return absl::InvalidArgumentError(std::string(what) + ": indices " + Shape(indices) + " and weights " +
                                      Shape(weights) + " must both be (batch=" + std::to_string(batch) +
                                      ", m, 3)");
  }
  return absl::OkStatus();
}

class ThreeInterpolateOp : public OpKernel {
 public:
  using OpKernel::OpKernel;

  void Compute(OpKernelContext* ctx) override {
    const Tensor& features = ctx->input(0);
    const Tensor& indices = ctx->input(1);
    const Tensor& weights = ctx->input(2);
    OP_REQUIRES(ctx, features.dims() == 3,
                absl::InvalidArgumentError("three_interpolate: features must be (batch, points, channels), got " +
                                           Shape(features)));
    const int64_t batch = features.dim_size(0), n = features.dim_size(1), c = features.dim_size(2);
    OP_REQUIRES_OK(ctx, CheckNeighbours(indices, weights, batch, "three_interpolate"));
    OP_REQUIRES_OK(ctx, CheckIndices(indices, n, "three_interpolate"));
    const int64_t m = indices.dim_size(1);
    Tensor* out = nullptr;
    OP_REQUIRES_OK(ctx, ctx->allocate_output(0, TensorShape({batch, m, c}), &out));
    const float* f = F(features);
    const int32_t* idx = I(indices);
    const float* w = F(weights);
    float* o = out->flat<float>().data();
    ShardUnits(ctx, batch * m, c * 6 + 10,
               [&](int64_t begin, int64_t end) { ThreeInterpolateRows(f, n, c, idx, w, m, o, begin, end); });
  }
};

class ThreeInterpolateGradOp : public OpKernel {
 public:
  using OpKernel::OpKernel;

  void Compute(OpKernelContext* ctx) override {
    const Tensor& grad = ctx->input(0);
    const Tensor& indices = ctx->input(1);
    const Tensor& weights = ctx->input(2);
    OP_REQUIRES(ctx, grad.dims() == 3,
                absl::InvalidArgumentError("three_interpolate grad: grad must be (batch, m, channels), got " +
                                           Shape(grad)));
    const int64_t batch = grad.dim_size(0), m = grad.dim_size(1), c = grad.dim_size(2);
    OP_REQUIRES_OK(ctx, CheckNeighbours(indices, weights, batch, "three_interpolate grad"));
    OP_REQUIRES(ctx, indices.dim_size(1) == m,
                absl::InvalidArgumentError("three_interpolate grad: grad " + Shape(grad) + " and indices " +
                                           Shape(indices) + " differ in m"));
    int64_t n = 0;
    Tensor* dx = nullptr;
    OP_REQUIRES_OK(ctx, ScatterOutput(ctx, 3, batch, c, &n, &dx));
    OP_REQUIRES_OK(ctx, CheckIndices(indices, n, "three_interpolate grad"));
    if (batch == 0 || c == 0) return;
    const int32_t* idx = I(indices);
    const float* w = F(weights);
    const float* dy = F(grad);
    float* out = dx->flat<float>().data();
    ShardUnits(ctx, batch * ChannelBlocks(c), m * kChannelBlock * 6,
               [&](int64_t begin, int64_t end) { ThreeInterpolateGrad(idx, w, m, dy, n, c, out, begin, end); });
  }
};

#define ZOO_CPU_KERNEL(name, op) REGISTER_KERNEL_BUILDER(Name(name).Device(::tensorflow::DEVICE_CPU), op)
ZOO_CPU_KERNEL("ZooFarthestPointSample", FarthestPointSampleOp);
ZOO_CPU_KERNEL("ZooBallQuery", BallQueryOp);
ZOO_CPU_KERNEL("ZooKnn", KnnOp);
ZOO_CPU_KERNEL("ZooThreeNN", ThreeNNOp);
ZOO_CPU_KERNEL("ZooGatherPoints", GatherPointsOp);
ZOO_CPU_KERNEL("ZooGatherPointsGrad", GatherPointsGradOp);
ZOO_CPU_KERNEL("ZooThreeInterpolate", ThreeInterpolateOp);
ZOO_CPU_KERNEL("ZooThreeInterpolateGrad", ThreeInterpolateGradOp);
#undef ZOO_CPU_KERNEL

}  // namespace
}  // namespace eccv20zoo
