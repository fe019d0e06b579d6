// Op definitions and shape functions of the point-cloud ops (PointNet++ CUDA semantics, CPU kernels
// in point_kernels.cc): sampling, ball query, k-NN, gathering and 3-NN interpolation.
#include "tensorflow/core/framework/op.h"
#include "tensorflow/core/framework/shape_inference.h"

namespace eccv20zoo {

using ::tensorflow::shape_inference::DimensionHandle;
using ::tensorflow::shape_inference::InferenceContext;
using ::tensorflow::shape_inference::ShapeHandle;

namespace {

// `input` as a (batch, points, 3) position tensor.
absl::Status Positions(InferenceContext* c, int input, ShapeHandle* out) {
  TF_RETURN_IF_ERROR(c->WithRank(c->input(input), 3, out));
  DimensionHandle three;
  TF_RETURN_IF_ERROR(c->WithValue(c->Dim(*out, 2), 3, &three));
  return absl::OkStatus();
}

// Output (batch, rows, k) where batch and rows come from `shape` and k is a known size.
ShapeHandle Neighbours(InferenceContext* c, ShapeHandle shape, int64_t k) {
  return c->MakeShape({c->Dim(shape, 0), c->Dim(shape, 1), c->MakeDim(k)});
}

// The (batch, num_points, channels) gradient of a gather from `grad` (batch, ..., channels).
absl::Status ScatterShape(InferenceContext* c, ShapeHandle indices, int grad_input, int num_points_input) {
  ShapeHandle grad;
  TF_RETURN_IF_ERROR(c->WithRankAtLeast(c->input(grad_input), 2, &grad));
  DimensionHandle n;
  TF_RETURN_IF_ERROR(c->MakeDimForScalarInput(num_points_input, &n));
  DimensionHandle batch;
  TF_RETURN_IF_ERROR(c->Merge(c->Dim(indices, 0), c->Dim(grad, 0), &batch));
  DimensionHandle channels = c->RankKnown(grad) ? c->Dim(grad, -1) : c->UnknownDim();
  c->set_output(0, c->MakeShape({batch, n, channels}));
  return absl::OkStatus();
}

}  // namespace

REGISTER_OP("ZooFarthestPointSample")
    .Input("points: float")
    .Output("indices: int32")
    .Attr("num_samples: int >= 0")
    .SetShapeFn([](InferenceContext* c) {
      ShapeHandle points;
      TF_RETURN_IF_ERROR(Positions(c, 0, &points));
      int64_t s;
      TF_RETURN_IF_ERROR(c->GetAttr("num_samples", &s));
      c->set_output(0, c->MakeShape({c->Dim(points, 0), c->MakeDim(s)}));
      return absl::OkStatus();
    })
    .Doc(R"doc(
Farthest point sample of points (batch, n, 3): indices (batch, num_samples), starting at point 0 and
taking the first farthest point on a tie (Pointnet2 CUDA semantics). Not differentiable.
)doc");

REGISTER_OP("ZooBallQuery")
    .Input("points: float")
    .Input("centers: float")
    .Output("indices: int32")
    .Attr("radius_sq: float")
    .Attr("max_samples: int >= 0")
    .SetShapeFn([](InferenceContext* c) {
      ShapeHandle points, centers;
      TF_RETURN_IF_ERROR(Positions(c, 0, &points));
      TF_RETURN_IF_ERROR(Positions(c, 1, &centers));
      int64_t k;
      TF_RETURN_IF_ERROR(c->GetAttr("max_samples", &k));
      c->set_output(0, Neighbours(c, centers, k));
      return absl::OkStatus();
    })
    .Doc(R"doc(
For each centre (batch, s, 3): the first max_samples point indices, in index order, whose squared
distance is strictly below radius_sq; the remaining slots repeat the first one found (0 when none is).
)doc");

REGISTER_OP("ZooKnn")
    .Input("points: float")
    .Input("queries: float")
    .Output("distances: float")
    .Output("indices: int32")
    .Attr("k: int >= 0")
    .SetShapeFn([](InferenceContext* c) {
      ShapeHandle points, queries;
      TF_RETURN_IF_ERROR(Positions(c, 0, &points));
      TF_RETURN_IF_ERROR(Positions(c, 1, &queries));
      int64_t k;
      TF_RETURN_IF_ERROR(c->GetAttr("k", &k));
      c->set_output(0, Neighbours(c, queries, k));
      c->set_output(1, Neighbours(c, queries, k));
      return absl::OkStatus();
    })
    .Doc(R"doc(
The k nearest points of each query: squared distances (batch, m, k) ascending and their indices, the
lower index first on a tie (as tf.math.top_k). k must not exceed the number of points.
)doc");

REGISTER_OP("ZooGatherPoints")
    .Input("features: float")
    .Input("indices: int32")
    .Output("output: float")
    .SetShapeFn([](InferenceContext* c) {
      ShapeHandle features, indices, out;
      TF_RETURN_IF_ERROR(c->WithRank(c->input(0), 3, &features));
      TF_RETURN_IF_ERROR(c->WithRankAtLeast(c->input(1), 1, &indices));
      TF_RETURN_IF_ERROR(c->Concatenate(indices, c->Vector(c->Dim(features, 2)), &out));
      c->set_output(0, out);
      return absl::OkStatus();
    })
    .Doc(R"doc(
features (batch, n, channels) gathered at indices (batch, ...): output (batch, ..., channels).
)doc");

REGISTER_OP("ZooGatherPointsGrad")
    .Input("indices: int32")
    .Input("grad: float")
    .Input("num_points: int32")
    .Output("features_grad: float")
    .SetShapeFn([](InferenceContext* c) {
      ShapeHandle indices;
      TF_RETURN_IF_ERROR(c->WithRankAtLeast(c->input(0), 1, &indices));
      return ScatterShape(c, indices, 1, 2);
    })
    .Doc(R"doc(
Gradient of ZooGatherPoints in its features: grad (batch, ..., channels) scatter-added to
(batch, num_points, channels).
)doc");

REGISTER_OP("ZooThreeNN")
    .Input("unknown: float")
    .Input("known: float")
    .Output("distances: float")
    .Output("indices: int32")
    .SetShapeFn([](InferenceContext* c) {
      ShapeHandle unknown, known;
      TF_RETURN_IF_ERROR(Positions(c, 0, &unknown));
      TF_RETURN_IF_ERROR(Positions(c, 1, &known));
      c->set_output(0, Neighbours(c, unknown, 3));
      c->set_output(1, Neighbours(c, unknown, 3));
      return absl::OkStatus();
    })
    .Doc(R"doc(
The three nearest known points (batch, n, 3) of each unknown point (batch, m, 3): Euclidean distances
(batch, m, 3) ascending and indices. Needs at least three known points.
)doc");

REGISTER_OP("ZooThreeInterpolate")
    .Input("features: float")
    .Input("indices: int32")
    .Input("weights: float")
    .Output("output: float")
    .SetShapeFn([](InferenceContext* c) {
      ShapeHandle features, indices, weights, merged;
      TF_RETURN_IF_ERROR(c->WithRank(c->input(0), 3, &features));
      TF_RETURN_IF_ERROR(c->WithRank(c->input(1), 3, &indices));
      TF_RETURN_IF_ERROR(c->WithRank(c->input(2), 3, &weights));
      TF_RETURN_IF_ERROR(c->Merge(indices, weights, &merged));
      DimensionHandle three;
      TF_RETURN_IF_ERROR(c->WithValue(c->Dim(merged, 2), 3, &three));
      c->set_output(0, c->MakeShape({c->Dim(merged, 0), c->Dim(merged, 1), c->Dim(features, 2)}));
      return absl::OkStatus();
    })
    .Doc(R"doc(
output[b, m] = sum_j weights[b, m, j] * features[b, indices[b, m, j]] over the three neighbours j.
Differentiable in the features only (as the Pointnet2 CUDA op).
)doc");

REGISTER_OP("ZooThreeInterpolateGrad")
    .Input("grad: float")
    .Input("indices: int32")
    .Input("weights: float")
    .Input("num_points: int32")
    .Output("features_grad: float")
    .SetShapeFn([](InferenceContext* c) {
      ShapeHandle indices;
      TF_RETURN_IF_ERROR(c->WithRank(c->input(1), 3, &indices));
      return ScatterShape(c, indices, 0, 3);
    })
    .Doc(R"doc(
Gradient of ZooThreeInterpolate in its features: weights[b, m, j] * grad[b, m] scatter-added to
(batch, num_points, channels) at indices[b, m, j].
)doc");

}  // namespace eccv20zoo
