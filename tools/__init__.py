"""The course's tools for authors and instructors (not installed with the students' package ``utils``):
``python -m tools.delivery`` (Colab stamping, student edition, slides, site), ``python -m tools.export`` (lesson code
exported from the notebooks into ``utils/lessons/``), ``python -m tools.workspace`` (``make lab``'s my-work/)."""
