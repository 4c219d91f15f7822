"""Execute a parameterized notebook headless with papermill, on the project's own kernel."""

from __future__ import annotations

import sys
from pathlib import Path

from .errors import WorkbenchError

__all__ = ["KERNEL_NAME", "NOTEBOOKS_DIR", "NotebookError", "ensure_kernel", "notebook_parameters", "declared_type", "execute"]

KERNEL_NAME = "workbench"
NOTEBOOKS_DIR = Path(__file__).resolve().parents[1] / "notebooks"


class NotebookError(WorkbenchError):
    """A notebook failed, or was given parameters it does not declare."""


def ensure_kernel() -> str:
    """Register this interpreter as the ``workbench`` kernel (once) and return its name.

    Pinning the kernel to this interpreter means papermill runs notebooks with the same
    packages as the caller, whatever other kernels the machine has.
    """
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        spec = KernelSpecManager().get_kernel_spec(KERNEL_NAME)
        if Path(spec.argv[0]).resolve() == Path(sys.executable).resolve():
            return KERNEL_NAME
    except NoSuchKernel:
        pass
    from ipykernel.kernelspec import install

    install(kernel_name=KERNEL_NAME, display_name="Python (workbench)", prefix=sys.prefix)
    return KERNEL_NAME


def notebook_parameters(notebook: str | Path) -> dict[str, dict]:
    """The parameters a notebook declares in its cell tagged ``parameters``."""
    import tempfile

    import nbformat
    import papermill

    nb = nbformat.read(str(notebook), as_version=4)
    if nb.metadata.get("kernelspec", {}).get("name"):
        return dict(papermill.inspect_notebook(str(notebook)))
    # papermill cannot infer types without a kernel name; inspect a copy that has ours
    nb.metadata["kernelspec"] = {"name": KERNEL_NAME, "language": "python", "display_name": "Python (workbench)"}
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / Path(notebook).name
        nbformat.write(nb, str(copy))
        return dict(papermill.inspect_notebook(str(copy)))


def execute(notebook: str | Path, output: str | Path, parameters: dict | None = None) -> Path:
    """Run ``notebook`` with ``parameters`` and write the executed copy to ``output``.

    Unknown parameter names are an error listing the declared ones (papermill itself only
    warns). On failure the executed notebook is kept and the error names the failing cell.
    """
    import papermill
    from papermill.exceptions import PapermillExecutionError

    notebook, output = Path(notebook), Path(output)
    parameters = dict(parameters or {})
    declared = notebook_parameters(notebook)
    unknown = sorted(set(parameters) - set(declared))
    if unknown:
        listing = ", ".join(f"{k} ({declared_type(v)})" for k, v in declared.items())
        raise NotebookError(f"{notebook.name} does not declare parameter(s) {unknown}; it declares: {listing}")
    for name, value in parameters.items():
        _check_type(notebook.name, name, value, declared)
    output.parent.mkdir(parents=True, exist_ok=True)
    try:
        papermill.execute_notebook(
            str(notebook),
            str(output),
            parameters=parameters,
            kernel_name=ensure_kernel(),
            language="python",
            progress_bar=False,
            cwd=str(output.parent),
        )
    except PapermillExecutionError as exc:
        raise NotebookError(
            f"{notebook.name} failed in cell {exc.exec_count} with {exc.ename}: {exc.evalue}. "
            f"The executed notebook is kept at {output}"
        ) from None
    return output


def declared_type(parameter: dict) -> str:
    """A parameter's type: its ``# type:`` annotation, else the type of its literal default."""
    import ast

    annotated = parameter.get("inferred_type_name") or "None"
    if annotated != "None":
        return annotated
    try:
        return type(ast.literal_eval(parameter.get("default", "None"))).__name__
    except (ValueError, SyntaxError):
        return "None"


_TYPES = {"int": (int,), "float": (int, float), "str": (str,), "bool": (bool,), "list": (list, tuple), "dict": (dict,)}


def _check_type(notebook: str, name: str, value, declared: dict) -> None:
    """Reject a value whose type differs from the default's in the parameters cell."""
    type_name = declared_type(declared[name])
    allowed = _TYPES.get(type_name)
    ok = allowed is None or value is None or (isinstance(value, allowed) and not (type_name != "bool" and isinstance(value, bool)))
    if not ok:
        raise NotebookError(
            f"{notebook}: parameter {name} must be {type_name} (default {declared[name].get('default')}), "
            f"got {type(value).__name__} {value!r}"
        )
