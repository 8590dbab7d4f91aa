"""``wikirec serve``: a trained model as a small local web app and JSON API.

One command, one URL, as TensorBoard or a Jupyter server::

    wikirec serve artifacts/demo/train            # http://127.0.0.1:8000/

The package is split by concern, and nothing here is imported by ``wikirec`` unless
``serve`` is the command run (the ``wikirec`` CLI imports :mod:`wikirec.serve.cli`,
which imports Starlette and uvicorn only when it starts the server):

- :mod:`wikirec.serve.service`: :class:`~wikirec.serve.service.ModelService`, the
  answers as JSON-ready dicts, every ranking and lookup delegated to
  :class:`wikirec.recommend.Recommender` (no web framework imported);
- :mod:`wikirec.serve.search`: suggestions as a title is typed;
- :mod:`wikirec.serve.maps`: the books' 2-D map ``wikirec plot`` cached, for the
  page to draw, and the interactive HTML maps it wrote;
- :mod:`wikirec.serve.app`: the Starlette app (routes, JSON errors, headers);
- :mod:`wikirec.serve.server`: binding a socket and running uvicorn, in the
  foreground or in a thread (:class:`~wikirec.serve.server.BackgroundServer`);
- :mod:`wikirec.serve.cli`: the ``serve`` subcommand;
- ``static/``: the page (plain HTML, CSS and JavaScript, no build step, no CDN).
"""
