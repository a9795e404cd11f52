"""anomaly-lab-jupyterlab: the Anomaly Lab viewer as a prebuilt JupyterLab 4 / Notebook 7 extension.

The wheel carries the prebuilt labextension as shared data
(share/jupyter/labextensions/anomaly-lab-jupyterlab); this module only tells Jupyter where the
development copy lives (``jupyter labextension develop``).
"""

__version__ = "0.1.0"


def _jupyter_labextension_paths():
    return [{"src": "labextension", "dest": "anomaly-lab-jupyterlab"}]
