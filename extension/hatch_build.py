"""Build hook: a wheel without the prebuilt labextension would install an extension JupyterLab
cannot load, so the build stops with one line saying how to build it first."""
import json
import os

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class PrebuiltLabextensionCheck(BuildHookInterface):
    PLUGIN_NAME = "custom"

    def initialize(self, version, build_data):
        if self.target_name != "wheel":
            return
        pkg = os.path.join(self.root, "anomaly_lab_jupyterlab", "labextension", "package.json")
        if not os.path.isfile(pkg):
            raise RuntimeError(
                f"{pkg} is missing: build the labextension first "
                "(at the repository root: npm install && npm run build)"
            )
        with open(pkg, encoding="utf-8") as f:
            load = json.load(f).get("jupyterlab", {}).get("_build", {}).get("load")
        if not load or not os.path.isfile(os.path.join(os.path.dirname(pkg), load)):
            raise RuntimeError(f"{pkg}: jupyterlab._build.load ({load}) names no built file: rebuild the labextension")
