"""Authoring the course: notebooks are the source.

Every lesson (``notebooks/``) and every instructor notebook (``solutions/``) is a
``.ipynb`` paired with a MyST Markdown twin (``.md``) through jupytext (``jupytext.toml``).
Edit either one — in JupyterLab, which saves both, or the ``.md`` in any editor — then:

- ``course sync`` brings the pair together again and normalises what must not churn
  (kernel metadata, cell ids, stream chunks) — :mod:`course.authoring.sync`;
- ``course refresh`` re-executes lessons and stores their outputs and figures —
  :mod:`course.authoring.refresh`;
- ``course build`` regenerates ``exercises/`` from ``solutions/`` (:mod:`course.grading.build`);
- ``course site`` builds the static course site with Jupyter Book 2 — :mod:`course.authoring.site`.
"""
