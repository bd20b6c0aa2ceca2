"""Lesson code generated from the notebooks (``make export``): one module per notebook, for example
``utils.lessons.smiles_rnn`` from ``notebooks/06_smiles_rnn.ipynb``. Each holds that notebook's cells tagged
``export`` (its models and the functions other notebooks, the checkpoints' training and the tests reuse), so the
notebook is the one source of every model. Never edit these files: edit the notebook and run ``make export``."""
