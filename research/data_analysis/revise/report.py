"""The HTML report: findings first, then one section per axis with its tables and figures.

Written with jinja2 (autoescaped) beside the PNG figures, which it links by relative file name, so the
report folder can be moved or zipped. The wording presents correlations for human judgement.
"""

from __future__ import annotations

import os

import jinja2

TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>REVISE report: {{ s.dataset.source | basename }}</title>
<style>
body { font-family: sans-serif; max-width: 1100px; margin: 2em auto; color: #222; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.9em; }
th, td { border: 1px solid #bbb; padding: 3px 8px; text-align: left; }
th { background: #eee; }
.note { background: #fff8e1; padding: 0.8em; border-left: 4px solid #f0b400; }
img { max-width: 100%; }
</style>
</head>
<body>
<h1>REVISE dataset report</h1>
<p>Dataset: <code>{{ s.dataset.source }}</code>: {{ s.dataset.num_images }} images, {{ s.dataset.num_instances }}
boxes, {{ s.dataset.categories | length }} categories.
{% if s.dataset.skipped %}Skipped annotations: {% for k, v in s.dataset.skipped.items() %}{{ k }} {{ v }}{% if not loop.last %}, {% endif %}{% endfor %}.{% endif %}</p>
<p class="note">These are correlations in the annotations, listed for a person to judge. A finding is not a
verdict that the dataset is biased or unfit, and the absence of findings does not show that it is fair.
p-values are not corrected for the number of tests (threshold {{ s.thresholds.alpha }}); the attribute
table also shows Benjamini-Hochberg q-values.
Measured with {{ options }}.</p>

<h2>Findings ({{ s.findings | length }})</h2>
{% if s.findings %}
<table>
<tr><th>axis</th><th>kind</th><th>subject</th><th>observation</th><th>possible action, if unwanted after review</th></tr>
{% for f in s.findings %}<tr><td>{{ f.axis }}</td><td>{{ f.kind }}</td><td>{{ f.subject }}</td><td>{{ f.text }}</td><td>{{ f.action }}</td></tr>
{% endfor %}</table>
{% else %}<p>No statistic passed the thresholds.</p>{% endif %}

<h2>Objects</h2>
<img src="{{ figures.counts }}" alt="images per category">
<table>
<tr><th>category</th><th>images</th><th>instances</th><th>images with people</th></tr>
{% for r in s.objects.counts %}<tr><td>{{ r.category }}</td><td>{{ r.images }}</td><td>{{ r.instances }}</td><td>{{ r.images_with_people }}</td></tr>
{% endfor %}</table>
<h3>Co-occurrence</h3>
<img src="{{ figures.cooccurrence }}" alt="co-occurrence heatmap">
<table>
<tr><th>pair</th><th>images</th><th>P(second | first)</th><th>P(first | second)</th></tr>
{% for r in s.objects.pairs[:50] %}<tr><td>{{ r.pair[0] }} + {{ r.pair[1] }}</td><td>{{ r.images }}</td><td>{{ '%.2f' % r.p_j_given_i }}</td><td>{{ '%.2f' % r.p_i_given_j }}</td></tr>
{% endfor %}</table>
{% if s.objects.overlap %}<h3>Overlapping labels (IoU &gt; 0.95)</h3>
<table><tr><th>pair</th><th>images</th></tr>
{% for r in s.objects.overlap %}<tr><td>{{ r.pair[0] }} / {{ r.pair[1] }}</td><td>{{ r.images }}</td></tr>{% endfor %}
</table>{% endif %}
<h3>Size and position</h3>
<img src="{{ figures.geometry }}" alt="box size and centre distance per category">
<table>
<tr><th>category</th><th>instances</th><th>median area</th><th>median centre distance</th></tr>
{% for r in s.objects.geometry %}<tr><td>{{ r.category }}</td><td>{{ r.instances }}</td><td>{{ '%.3f' % r.median_size }}</td><td>{{ '%.3f' % r.median_distance }}</td></tr>
{% endfor %}</table>
<table>
<tr><th>supercategory</th><th>instances</th><th>images with people</th><th>images without people</th></tr>
{% for r in s.objects.supercategories %}<tr><td>{{ r.supercategory }}</td><td>{{ r.instances }}</td><td>{{ r.images_with_people }}</td><td>{{ r.images_without_people }}</td></tr>
{% endfor %}</table>

{% if s.attributes %}<h2>Person attributes</h2>
<p>Annotated images: {% for n in s.attributes.attribute_names %}'{{ n }}' {{ s.attributes.image_counts[loop.index0] }}{% if not loop.last %}, {% endif %}{% endfor %}.
Prior used for the per-category tests: {{ s.attributes.prior[0] }} / {{ s.attributes.prior[1] }}.</p>
<img src="{{ figures.attributes }}" alt="attribute share per category">
<table>
<tr><th>category</th><th>{{ s.attributes.attribute_names[0] }}</th><th>{{ s.attributes.attribute_names[1] }}</th><th>share</th><th>binomial p</th><th>BH q</th></tr>
{% for r in s.attributes.categories %}<tr><td>{{ r.category }}</td><td>{{ r.counts[0] }}</td><td>{{ r.counts[1] }}</td><td>{{ '%.2f' % r.share }}</td><td>{{ '%.3g' % r.p_value }}</td><td>{{ '%.3g' % r.q_value }}</td></tr>
{% endfor %}</table>
{% if s.attributes.separability %}<h3>Appearance separability</h3>
<table><tr><th>category</th><th>CV accuracy</th><th>shuffled-label accuracy</th><th>permutation p</th><th>images</th></tr>
{% for r in s.attributes.separability %}<tr><td>{{ r.category }}</td><td>{{ '%.2f' % r.accuracy }}</td><td>{{ '%.2f' % r.permuted_accuracy }}</td><td>{{ '%.3g' % r.p_value }}</td><td>{{ r.n[0] }} / {{ r.n[1] }}</td></tr>
{% endfor %}</table>{% endif %}
{% endif %}

{% if s.geography %}<h2>Geography</h2>
<img src="{{ figures.geography }}" alt="images per country and subregion">
<table><tr><th>country</th><th>images</th></tr>
{% for k, v in s.geography.countries.items() %}<tr><td>{{ k }}</td><td>{{ v }}</td></tr>{% endfor %}
</table>
<table><tr><th>subregion</th><th>images</th></tr>
{% for k, v in s.geography.subregions.items() %}<tr><td>{{ k }}</td><td>{{ v }}</td></tr>{% endfor %}
</table>
<p>Located images: {{ s.geography.located_images }}; outside every polygon: {{ s.geography.unplaced }}.</p>
{% endif %}
</body>
</html>
"""


def render(summary: dict, figures: dict[str, str], options: str) -> str:
    env = jinja2.Environment(autoescape=True)
    env.filters["basename"] = os.path.basename
    return env.from_string(TEMPLATE).render(s=summary, figures=figures, options=options)
