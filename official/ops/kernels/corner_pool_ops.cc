// Op definitions and shape functions of the corner pools: ZooCornerPool and its gradient.
#include "tensorflow/core/framework/op.h"
#include "tensorflow/core/framework/shape_inference.h"

namespace eccv20zoo {

using ::tensorflow::shape_inference::InferenceContext;
using ::tensorflow::shape_inference::ShapeHandle;

REGISTER_OP("ZooCornerPool")
    .Input("x: float")
    .Output("y: float")
    .Attr("direction: {'top', 'bottom', 'left', 'right'}")
    .SetShapeFn([](InferenceContext* c) {
      ShapeHandle x;
      TF_RETURN_IF_ERROR(c->WithRank(c->input(0), 4, &x));
      c->set_output(0, x);
      return absl::OkStatus();
    })
    .Doc(R"doc(
Directional cumulative max of an NHWC float tensor (CornerNet / CPN corner pooling).

Direction "top" gives y[:, i] = max(x[:, i:]), "bottom" y[:, i] = max(x[:, :i+1]),
"left" y[:, :, j] = max(x[:, :, j:]) and "right" y[:, :, j] = max(x[:, :, :j+1]).
)doc");

REGISTER_OP("ZooCornerPoolGrad")
    .Input("x: float")
    .Input("grad: float")
    .Output("x_grad: float")
    .Attr("direction: {'top', 'bottom', 'left', 'right'}")
    .SetShapeFn([](InferenceContext* c) {
      ShapeHandle x, grad, merged;
      TF_RETURN_IF_ERROR(c->WithRank(c->input(0), 4, &x));
      TF_RETURN_IF_ERROR(c->WithRank(c->input(1), 4, &grad));
      TF_RETURN_IF_ERROR(c->Merge(x, grad, &merged));
      c->set_output(0, merged);
      return absl::OkStatus();
    })
    .Doc(R"doc(
Gradient of ZooCornerPool: grad[i] flows to the nearest index attaining the max of output i.
)doc");

}  // namespace eccv20zoo
