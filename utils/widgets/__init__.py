"""The course's widgets (ipywidgets): notebook 03's TensorFlow-Playground (:mod:`.playground`, on the numpy network
of :mod:`utils.playground_engine`) and notebook 04's kernel explorer (:mod:`.kernel_explorer`, on
:func:`utils.images.explore`). Each callback is a plain method, so a notebook or a test drives them from code."""
