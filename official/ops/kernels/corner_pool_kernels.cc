// CPU OpKernels of ZooCornerPool and ZooCornerPoolGrad: shape checks, then the loops of
// corner_pool.cc sharded over TensorFlow's intra-op thread pool.
#include <algorithm>
#include <string>

#include "corner_pool.h"
#include "tensorflow/core/framework/op_kernel.h"
#include "tensorflow/core/framework/tensor.h"
#include "tensorflow/core/util/work_sharder.h"

namespace eccv20zoo {

using ::tensorflow::OpKernel;
using ::tensorflow::OpKernelConstruction;
using ::tensorflow::OpKernelContext;
using ::tensorflow::Tensor;
using ::tensorflow::register_kernel::Name;

namespace {

// Rough cost of one work unit in cycles, for the thread pool's sharding.
int64_t UnitCost(const PoolView& v) { return v.n * std::min(v.inner, kInnerBlock) * 4; }

class CornerPoolBase : public OpKernel {
 public:
  explicit CornerPoolBase(OpKernelConstruction* ctx) : OpKernel(ctx) {
    OP_REQUIRES_OK(ctx, ctx->GetAttr("direction", &direction_));
  }

 protected:
  // Checks that `x` is 4-D and fills the [outer, n, inner] view of it.
  bool View(OpKernelContext* ctx, const Tensor& x, PoolView* view) {
    if (x.dims() != 4) {
      ctx->SetStatus(absl::InvalidArgumentError("corner pool: x must be 4-D NHWC, got shape " +
                                                x.shape().DebugString()));
      return false;
    }
    const int64_t shape[4] = {x.dim_size(0), x.dim_size(1), x.dim_size(2), x.dim_size(3)};
    if (!MakePoolView(shape, direction_.c_str(), view)) {
      ctx->SetStatus(absl::InvalidArgumentError("corner pool: unknown direction " + direction_));
      return false;
    }
    return true;
  }

  template <typename Fn>
  void Shard(OpKernelContext* ctx, const PoolView& view, Fn fn) {
    const auto* threads = ctx->device()->tensorflow_cpu_worker_threads();
    ::tensorflow::Shard(threads->num_threads, threads->workers, view.units(), UnitCost(view), fn);
  }

 private:
  std::string direction_;
};

class CornerPoolOp : public CornerPoolBase {
 public:
  using CornerPoolBase::CornerPoolBase;

  void Compute(OpKernelContext* ctx) override {
    const Tensor& x = ctx->input(0);
    PoolView view;
    if (!View(ctx, x, &view)) return;
    Tensor* y = nullptr;
    OP_REQUIRES_OK(ctx, ctx->allocate_output(0, x.shape(), &y));
    if (x.NumElements() == 0) return;
    const float* xp = x.flat<float>().data();
    float* yp = y->flat<float>().data();
    Shard(ctx, view, [&](int64_t begin, int64_t end) { CornerPoolForward(view, xp, yp, begin, end); });
  }
};

class CornerPoolGradOp : public CornerPoolBase {
 public:
  using CornerPoolBase::CornerPoolBase;

  void Compute(OpKernelContext* ctx) override {
    const Tensor& x = ctx->input(0);
    const Tensor& dy = ctx->input(1);
    PoolView view;
    if (!View(ctx, x, &view)) return;
    OP_REQUIRES(ctx, x.shape() == dy.shape(),
                absl::InvalidArgumentError("corner pool grad: x " + x.shape().DebugString() +
                                           " and grad " + dy.shape().DebugString() + " differ"));
    Tensor* dx = nullptr;
    OP_REQUIRES_OK(ctx, ctx->allocate_output(0, x.shape(), &dx));
    if (x.NumElements() == 0) return;
    const float* xp = x.flat<float>().data();
    const float* dyp = dy.flat<float>().data();
    float* dxp = dx->flat<float>().data();
    Shard(ctx, view,
          [&](int64_t begin, int64_t end) { CornerPoolBackward(view, xp, dyp, dxp, begin, end); });
  }
};

REGISTER_KERNEL_BUILDER(Name("ZooCornerPool").Device(::tensorflow::DEVICE_CPU), CornerPoolOp);
REGISTER_KERNEL_BUILDER(Name("ZooCornerPoolGrad").Device(::tensorflow::DEVICE_CPU),
                        CornerPoolGradOp);

}  // namespace
}  // namespace eccv20zoo
