"""Tests of the doc-test harness (tests/harness.py), each on a small project made by pytester.

The small project gets this repository's own ``[tool.pytest.ini_options]``, so these tests check
the configuration the site really runs with.
"""

import json
import textwrap
import tomllib
from pathlib import Path

import pytest
# pytester's in-process runs drop the modules each inner run imported; a C extension such as
# torch cannot be imported twice in one process, so it is imported once out here.
import torch  # noqa: F401

ROOT = Path(__file__).resolve().parents[1]
INI = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]


@pytest.fixture
def project(pytester: pytest.Pytester):
    """A pytester folder configured like the repository, with helpers to write pages and snippets."""
    lines = ["[tool.pytest.ini_options]"]
    for key, value in INI.items():
        if key != "pythonpath":  # the harness is already importable in this process
            lines.append(f"{key} = {json.dumps(value)}")
    pytester.makefile(".toml", pyproject="\n".join(lines))

    def write(relpath: str, text: str) -> Path:
        path = pytester.path / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))
        return path

    pytester.write = write
    return pytester


def test_failing_fence_reports_page_and_line(project):
    project.write("docs/page.md", """
        # A page

        ```python
        x = 1
        assert x == 2, "x is not 2"
        ```
    """)
    result = project.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*docs/page.md:5: AssertionError: x is not 2*"])


def test_failing_snippet_reports_file_and_line(project):
    project.write("snippets/topic/broken.py", """
        import math

        value = math.sqrt(4)
        assert value == 3, f"got {value}"
    """)
    result = project.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*snippets/topic/broken.py:4: AssertionError: got 2.0*"])
    # The traceback starts in the snippet, not in the harness's runpy frames.
    assert "runpy" not in result.stdout.str()


def test_snippet_runs_as_main_from_a_temporary_folder(project):
    project.write("snippets/topic/script.py", """
        import os
        from pathlib import Path

        assert __name__ == "__main__"
        assert Path.cwd() != Path(__file__).parent
        assert os.listdir(".") == [], "the working folder starts empty"
        Path("scratch.txt").write_text("written where it cannot dirty the repository")
    """)
    project.runpytest().assert_outcomes(passed=1)
    assert not (project.path / "scratch.txt").exists()
    assert not (project.path / "snippets/topic/scratch.txt").exists()


def test_snippets_are_not_imported_while_collecting(project):
    project.write("snippets/topic/gpu_only.py", """
        raise RuntimeError("this would only work on a GPU")
    """)
    result = project.runpytest("--collect-only", "-q")
    assert result.ret == 0
    result.stdout.fnmatch_lines(["snippets/topic/gpu_only.py::gpu_only"])


def test_fences_inside_tabs_and_admonitions_are_collected(project):
    project.write("docs/page.md", """
        # Containers

        !!! note "An admonition"

            ```python
            print("in an admonition")
            ```

        === "CPU"

            ```python
            print("in a tab")
            ```

        === "GPU"

            !!! tip

                ```python
                print("in an admonition in a tab")
                ```

        ??? example "Collapsed"

            ```python
            assert False, "fails on line 26"
            ```
    """)
    result = project.runpytest("-v")
    result.assert_outcomes(passed=3, failed=1)
    result.stdout.fnmatch_lines(["*docs/page.md:26: AssertionError: fails on line 26*"])


def test_include_fence_is_not_run_and_a_missing_include_names_the_page_line(project):
    project.write("snippets/topic/ok.py", "print('ok')\n")
    project.write("docs/page.md", """
        # Includes

        ```python title="ok.py"
        --8<-- "snippets/topic/ok.py"
        ```

        ```python
        --8<-- "snippets/topic/missing.py"
        ```
    """)
    result = project.runpytest()
    result.assert_outcomes(errors=1)  # a collection error stops the run before any item runs
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(["*docs/page.md:8: included file 'snippets/topic/missing.py' does not exist*"])


def test_missing_snippet_section_is_an_error(project):
    project.write("snippets/topic/ok.py", "# pytest: slow\nprint('ok')\n")
    project.write("docs/page.md", """
        ```python
        --8<-- "snippets/topic/ok.py:code"
        ```
    """)
    result = project.runpytest()
    result.stdout.fnmatch_lines(["*docs/page.md:2: section 'code' not found in snippets/topic/ok.py*"])


def test_unknown_fence_marker_is_an_error_naming_page_and_line(project):
    project.write("docs/page.md", """
        # Typo

        ```{.python .gpux}
        print("never runs")
        ```
    """)
    result = project.runpytest()
    assert result.ret != 0
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*docs/page.md:3: unknown marker 'gpux'; registered markers: *distributed*gpu*slow*"])


def test_unknown_snippet_marker_is_an_error_naming_file_and_line(project):
    project.write("snippets/topic/typo.py", """
        # A header comment first
        # pytest: slow, distibuted
        print("never runs")
    """)
    result = project.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*snippets/topic/typo.py:2: unknown marker 'distibuted'*"])


def test_presentation_classes_are_not_markers(project):
    project.write("docs/page.md", """
        ```{.python .annotate title="x.py" linenums="1"}
        print("annotated")  # (1)!
        ```

        1. An annotation.
    """)
    project.runpytest().assert_outcomes(passed=1)


@pytest.fixture
def gpu_and_cpu_items(project):
    project.write("docs/page.md", """
        ```python
        print("cpu fence")
        ```

        ```{.python .gpu}
        import torch
        assert torch.cuda.is_available()
        ```
    """)
    project.write("snippets/topic/cpu.py", "print('cpu snippet')\n")
    project.write("snippets/topic/on_gpu.py", """
        # pytest: gpu, slow
        # --8<-- [start:code]
        import torch
        assert torch.cuda.is_available()
        # --8<-- [end:code]
    """)
    return project


def test_marker_selection(gpu_and_cpu_items):
    project = gpu_and_cpu_items
    gpu = project.runpytest("-m", "gpu", "--collect-only", "-q")
    gpu.stdout.fnmatch_lines(["docs/page.md::line-5", "snippets/topic/on_gpu.py::on_gpu", "2/4 tests collected*"])
    cpu = project.runpytest("-m", "not gpu", "--collect-only", "-q")
    cpu.stdout.fnmatch_lines(["docs/page.md::line-1", "snippets/topic/cpu.py::cpu", "2/4 tests collected*"])
    slow = project.runpytest("-m", "slow", "--collect-only", "-q")
    slow.stdout.fnmatch_lines(["snippets/topic/on_gpu.py::on_gpu", "1/4 tests collected*"])


def test_gpu_items_skip_with_the_reason_without_cuda(gpu_and_cpu_items, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    result = gpu_and_cpu_items.runpytest("-m", "gpu")
    result.assert_outcomes(skipped=2)
    result.stdout.fnmatch_lines(["SKIPPED * gpu item: needs a CUDA GPU*pytest -m gpu*"])


def test_network_attempt_fails_the_item_even_when_swallowed(project):
    project.write("docs/page.md", """
        ```python
        import socket

        try:  # a library that retries or falls back quietly would look like this
            socket.create_connection(("203.0.113.7", 80), timeout=1)
        except OSError:
            pass
        ```

        ```python
        import socket

        try:
            socket.getaddrinfo("huggingface.co", 443)
        except OSError:
            pass
        ```

        ```python
        import socket

        server = socket.create_server(("127.0.0.1", 0))
        client = socket.create_connection(server.getsockname())
        client.close(); server.close()
        ```
    """)
    result = project.runpytest()
    result.assert_outcomes(failed=2, passed=1)
    result.stdout.fnmatch_lines([
        "*tried to reach the network: connect to 203.0.113.7:80*",
        "*tried to reach the network: name lookup of 'huggingface.co'*",
    ])


def test_offline_environment_is_set(project):
    project.write("docs/page.md", """
        ```python
        import os

        for name in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "OMP_NUM_THREADS"):
            assert os.environ[name] == "1", name
        ```
    """)
    project.runpytest().assert_outcomes(passed=1)


def test_report_log_records_outcome_location_and_versions(project):
    project.write("docs/page.md", """
        # Title

        ```python
        print("hello")
        ```
    """)
    project.runpytest().assert_outcomes(passed=1)
    records = [json.loads(line) for line in (project.path / "reports/pytest-report.jsonl").read_text().splitlines()]
    call = next(r for r in records if r.get("when") == "call")
    assert call["nodeid"] == "docs/page.md::line-3"
    assert call["outcome"] == "passed"
    environment = dict(call["user_properties"])["environment"]
    assert environment["python"].startswith("3.")
    assert "pytest-markdown-docs" in environment


def test_deprecated_api_in_page_code_fails(project):
    project.write("docs/page.md", """
        ```python
        import warnings

        def old_api():
            warnings.warn("old_api is deprecated; use new_api", FutureWarning, stacklevel=2)

        old_api()  # stacklevel=2 attributes the warning to this call, in the page's code
        ```
    """)
    result = project.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*docs/page.md:7: FutureWarning: old_api is deprecated*"])


def test_output_block_is_checked_against_what_the_fence_printed(project):
    project.write("docs/page.md", """
        ```python
        print("loss", 2.25)
        print("a long line whose middle is elided")
        ```

        ```{.text .output}
        loss 2.25
        a long ... elided
        ```

        ```python
        print("loss", 1.5)
        ```

        ```{.text .output}
        loss 9.99
        ```
    """)
    result = project.runpytest()
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*docs/page.md:15: the output block differs from what the code printed*",
                                 "*loss 9.99*", "*loss 1.5*"])


def test_output_block_under_a_snippet_include_is_checked_by_the_snippet(project):
    project.write("snippets/topic/prints.py", "print('tokens:', [1, 2, 3])\n")
    project.write("docs/page.md", """
        ```python title="prints.py"
        --8<-- "snippets/topic/prints.py"
        ```

        ```{.text .output}
        tokens: [1, 2, 4]
        ```
    """)
    result = project.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["docs/page.md:5: the output block differs*",
                                 "FAILED snippets/topic/prints.py::prints*"])
    (project.path / "docs/page.md").write_text((project.path / "docs/page.md").read_text().replace("4]", "3]"))
    project.runpytest().assert_outcomes(passed=1)


def test_output_block_must_follow_python(project):
    project.write("docs/page.md", """
        ```bash
        echo hi
        ```

        ```{.text .output}
        hi
        ```
    """)
    result = project.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*docs/page.md:5: an output block must directly follow a Python fence*"])


DISTRIBUTED_SNIPPET = """
    # pytest: distributed
    import os
    import sys

    import torch
    import torch.distributed as dist
    import torch.multiprocessing as mp


    def work(rank, world):
        dist.init_process_group("gloo", rank=rank, world_size=world)
        total = torch.tensor([rank + 1.0])
        dist.all_reduce(total)
        print(f"rank {rank}/{world}: sum of ranks+1 = {total.item()}", flush=True)
        dist.destroy_process_group()


    if __name__ == "__main__":
        assert os.environ["MASTER_ADDR"] == "127.0.0.1"
        mp.spawn(work, args=(WORLD,), nprocs=WORLD)
"""


def test_distributed_snippet_runs_its_processes_on_a_free_port(project):
    project.write("snippets/topic/two_ranks.py", DISTRIBUTED_SNIPPET.replace("WORLD", "2"))
    result = project.runpytest("-s")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*rank 1/2: sum of ranks+1 = 3.0*"])


def test_distributed_snippet_that_ran_one_process_fails(project):
    project.write("snippets/topic/one_rank.py", DISTRIBUTED_SNIPPET.replace("WORLD", "1"))
    result = project.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*snippets/topic/one_rank.py:1: a distributed item must show at least 2 processes*saw ?(0, 1)?*"])


def test_distributed_failure_names_the_line_and_leaves_no_process_behind(project, tmp_path):
    pidfile = tmp_path / "straggler.pid"
    project.write("snippets/topic/crashes.py", f"""
        # pytest: distributed
        import subprocess
        import sys

        straggler = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
        open({str(pidfile)!r}, "w").write(str(straggler.pid))
        raise RuntimeError("rank 0 crashed")
    """)
    result = project.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*snippets/topic/crashes.py:7: RuntimeError: rank 0 crashed*"])
    pid = int(pidfile.read_text())
    status = Path(f"/proc/{pid}/status")
    assert not status.exists() or "zombie" in status.read_text(), "the straggler outlived its item"


def test_distributed_fence_is_an_error(project):
    project.write("docs/page.md", """
        ```{.python .distributed}
        print("would spawn")
        ```
    """)
    result = project.runpytest()
    result.stdout.fnmatch_lines(["*docs/page.md:1: code that starts several processes belongs in a snippet file*"])


def test_items_of_another_environment_skip_with_the_command(project):
    pyproject = project.path / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + textwrap.dedent("""
        [tool.llm-study.environments.special]
        paths = ["docs/special.md", "snippets/special"]
        command = "nox -s special"
    """))
    project.write("docs/special.md", "```python\nimport only_in_special_env\n```\n")
    project.write("snippets/special/uses_it.py", "import only_in_special_env\n")
    project.write("snippets/topic/_helper.py", "raise SystemExit('a helper module is not an item')\n")
    project.write("snippets/topic/main_env.py", "print('main')\n")
    result = project.runpytest()
    result.assert_outcomes(passed=1, skipped=2)
    result.stdout.fnmatch_lines(["SKIPPED * runs in the 'special' environment: `nox -s special`"])


def test_snippet_named_on_the_command_line_is_run_not_imported(project):
    project.write("snippets/topic/named.py", """
        assert __name__ == "__main__", "imported as a module instead of run as a script"
        print("ran as a script")
    """)
    result = project.runpytest("snippets/topic/named.py", "-s")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*ran as a script*"])


def test_conftest_fixture_reaches_snippets_of_its_folder_only(project):
    # A folder's conftest.py can start a service for its snippets (the Triton page starts a server
    # this way); it is not an item itself, and `collect_ignore` hides code the service loads.
    project.write("snippets/served/conftest.py", """
        import os
        import pytest

        collect_ignore = ["model_repository"]

        @pytest.fixture(scope="session", autouse=True)
        def service():
            os.environ["SERVICE_URL"] = "127.0.0.1:1234"
            yield
            del os.environ["SERVICE_URL"]
    """)
    project.write("snippets/served/model_repository/m/1/model.py", "raise SystemExit('not an item')\n")
    project.write("snippets/served/client.py", """
        import os
        assert os.environ["SERVICE_URL"] == "127.0.0.1:1234"
    """)
    project.write("snippets/other/alone.py", """
        import os
        assert "SERVICE_URL" not in os.environ
    """)
    result = project.runpytest("-v")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*snippets/other/alone.py*PASSED*", "*snippets/served/client.py*PASSED*"])


@pytest.fixture
def items_with_needs(project):
    pyproject = project.path / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + textwrap.dedent("""
        [tool.llm-study.needs]
        pytest = { install = "pip install pytest" }
        no-such-dist = { install = "pip install no-such-dist==1.0" }
        some-server = { env = "LLM_STUDY_TEST_SERVER", install = "start the server first" }

        [tool.llm-study.environments.special]
        paths = ["snippets/special"]
        command = "nox -s special"
    """))
    project.write("docs/page.md", """
        ```{.python .gpu .needs-no-such-dist}
        import no_such_dist
        ```
    """)
    project.write("snippets/topic/has_it.py", "# pytest: gpu, needs-pytest\nprint('ran')\n")
    project.write("snippets/topic/lacks_it.py", "# pytest: gpu, needs-pytest, needs-no-such-dist\nimport no_such_dist\n")
    project.write("snippets/topic/server.py", "# pytest: gpu, needs-some-server\nprint('served')\n")
    project.write("snippets/special/other_env.py", "# pytest: gpu, needs-pytest\nprint('other env')\n")
    return project


def test_gpu_item_skips_with_the_install_command_of_what_it_lacks(items_with_needs, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    monkeypatch.delenv("LLM_STUDY_ENV", raising=False)
    monkeypatch.delenv("LLM_STUDY_TEST_SERVER", raising=False)
    # A reader's own environment (no LLM_STUDY_ENV): the item of another nox environment runs too.
    result = items_with_needs.runpytest("-m", "gpu", "-rs")
    result.assert_outcomes(passed=2, skipped=3)
    result.stdout.fnmatch_lines_random([
        "SKIPPED * docs/page.md: gpu item: needs no-such-dist, not installed here: `pip install no-such-dist==1.0`",
        "SKIPPED * snippets/topic/lacks_it.py: gpu item: needs no-such-dist, *`pip install no-such-dist==1.0`",
        "SKIPPED * snippets/topic/server.py: gpu item: needs some-server, *`start the server first`",
    ])
    monkeypatch.setenv("LLM_STUDY_TEST_SERVER", "127.0.0.1:1")
    items_with_needs.runpytest("-m", "gpu", "snippets/topic/server.py").assert_outcomes(passed=1)
    # Under nox the environment still decides first.
    monkeypatch.setenv("LLM_STUDY_ENV", "main")
    result = items_with_needs.runpytest("-m", "gpu", "snippets/special")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["SKIPPED * runs in the 'special' environment: `nox -s special`"])


def test_unknown_need_is_an_error_naming_file_and_line(items_with_needs):
    items_with_needs.write("snippets/topic/typo.py", "# pytest: gpu, needs-bitsandbytse\nprint()\n")
    result = items_with_needs.runpytest("snippets/topic/typo.py")
    result.stdout.fnmatch_lines(["*snippets/topic/typo.py:1: unknown need 'bitsandbytse'; declared needs: "
                                 "no-such-dist, pytest, some-server*"])
    assert result.ret != 0


def test_cuda_call_without_the_gpu_marker_says_to_add_it(project, monkeypatch):
    project.write("docs/page.md", """
        ```python
        raise AssertionError("Torch not compiled with CUDA enabled")  # what torch.zeros(1, device="cuda") says
        ```
    """)
    project.write("snippets/topic/uses_cuda.py", 'raise RuntimeError("Found no NVIDIA driver on your system")\n')
    result = project.runpytest()
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines_random([
        "*docs/page.md:2: this code needs a CUDA GPU but is not marked `gpu`: give the fence the gpu class*",
        "*snippets/topic/uses_cuda.py:1: this code needs a CUDA GPU but is not marked `gpu`: put `# pytest: gpu`*",
    ])


def test_output_floats_match_to_the_precision_written(project):
    project.write("docs/page.md", """
        ```python
        print("ratio", 2 / 3, "error", 1.23456e-7)
        ```

        ```{.text .output}
        ratio 0.667 error 1.2e-07
        ```

        ```python
        print("ratio", 2 / 3)
        ```

        ```{.text .output}
        ratio 0.70
        ```
    """)
    result = project.runpytest()
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*docs/page.md:13: the output block differs*"])


def test_library_log_lines_are_not_compared(project):
    # A handler made while the item runs writes to the item's stdout; its records are not output.
    project.write("docs/page.md", """
        ```python
        import logging, sys
        log = logging.getLogger("some.library")
        log.addHandler(logging.StreamHandler(sys.stdout))
        log.warning("[WARNING] Setting accelerator to CPU")
        print("the result")
        ```

        ```{.text .output}
        the result
        ```
    """)
    project.runpytest().assert_outcomes(passed=1)


def test_log_records_of_spawned_ranks_stay_out_of_the_compared_output(project):
    # Each rank is a fresh interpreter that sets up its own logging, as DeepSpeed does on import.
    project.write("snippets/topic/logging_ranks.py", """
        # pytest: distributed
        import logging
        import sys

        import torch.multiprocessing as mp


        def work(rank):
            log = logging.getLogger("library")
            log.addHandler(logging.StreamHandler(sys.stdout))
            log.warning("[WARNING] Setting accelerator to CPU")
            print(f"rank {rank}/2: ready", flush=True)


        if __name__ == "__main__":
            mp.spawn(work, nprocs=2)
    """)
    project.write("docs/page.md", """
        ```python
        --8<-- "snippets/topic/logging_ranks.py"
        ```

        ```{.text .output}
        rank ...: ready
        rank ...: ready
        ```
    """)
    result = project.runpytest()
    result.assert_outcomes(passed=1)


def test_deprecated_call_in_a_spawned_rank_fails_the_item(project):
    project.write("snippets/topic/deprecated_in_rank.py", """
        # pytest: distributed
        import warnings

        import torch.multiprocessing as mp


        def old_api():
            warnings.warn("old_api is deprecated; use new_api", DeprecationWarning, stacklevel=2)


        def work(rank):
            old_api()  # in a rank: a fresh interpreter that reads no pytest configuration
            print(f"rank {rank}/2: done", flush=True)


        if __name__ == "__main__":
            mp.spawn(work, nprocs=2)
    """)
    result = project.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*snippets/topic/deprecated_in_rank.py:12: DeprecationWarning: old_api is deprecated*"])


def test_a_library_path_added_while_an_item_ran_outlives_the_item(project):
    # onnxruntime.transformers appends its own folder to sys.path when imported; restoring the whole
    # of sys.path after each item made its submodules unimportable from the next item on.
    project.write("snippets/topic/a_adds_a_path.py", """
        import sys
        sys.path.append("/llm-study/added-by-a-library")
    """)
    project.write("snippets/topic/b_sees_it.py", """
        import sys
        assert "/llm-study/added-by-a-library" in sys.path
        assert not any(p.endswith("snippets/topic") for p in sys.path[1:]), "the snippet folder leaked"
    """)
    project.write("docs/page.md", """
        ```python
        --8<-- "snippets/topic/a_adds_a_path.py"
        ```

        ```python
        --8<-- "snippets/topic/b_sees_it.py"
        ```
    """)
    project.runpytest("-p", "no:randomly").assert_outcomes(passed=2)


def test_an_items_environment_variables_end_with_it(project):
    # A snippet that set MASTER_PORT in-process made a later item's worker processes bind the same
    # port (EADDRINUSE); the item after it must see os.environ as it was before.
    project.write("snippets/topic/a_sets_a_variable.py", """
        import os
        os.environ["LLM_STUDY_LEAK_CHECK"] = "set by a"
        os.environ.pop("HF_HUB_OFFLINE")
    """)
    project.write("snippets/topic/b_does_not_see_it.py", """
        import os
        assert "LLM_STUDY_LEAK_CHECK" not in os.environ, "a's variable leaked"
        assert os.environ["HF_HUB_OFFLINE"] == "1", "a's removal leaked"
    """)
    project.write("docs/page.md", """
        ```python
        --8<-- "snippets/topic/a_sets_a_variable.py"
        ```

        ```python
        --8<-- "snippets/topic/b_does_not_see_it.py"
        ```
    """)
    project.runpytest("-p", "no:randomly").assert_outcomes(passed=2)


# ---------------------------------------------------------------------------------------------
# Notebooks (docs/**/*.ipynb): one item each, run in a kernel of this Python, outputs compared
# ---------------------------------------------------------------------------------------------

def write_notebook(project, relpath: str, cells: list, markers: list[str] | None = None) -> Path:
    """Write an nbformat 4 notebook: each cell is code (a string) or ``(code, committed stdout)``;
    a string starting with ``# md`` is a Markdown cell."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

    notebook = new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                     "language": "python"}})
    if markers is not None:
        notebook.metadata["llm_study"] = {"markers": markers}
    for cell in cells:
        source, shown = cell if isinstance(cell, tuple) else (cell, None)
        source = textwrap.dedent(source).strip("\n")
        if source.startswith("# md"):
            notebook.cells.append(new_markdown_cell(source[4:].strip()))
            continue
        outputs = [new_output("stream", name="stdout", text=shown)] if shown is not None else []
        notebook.cells.append(new_code_cell(source, outputs=outputs))
    path = project.path / relpath
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, path)
    return path


def test_notebook_faults_fail_the_item_naming_notebook_and_cell(project):
    # mkdocs-jupyter renders a notebook whose cell fails without complaint: the test run must fail.
    write_notebook(project, "docs/walk.ipynb", [
        "# md A walkthrough",
        ("x = 1\nprint(x)", "1\n"),
        "y = x + 1\nassert y == 3, 'planted: y is not 3'",
        "print('never runs')",
    ])
    write_notebook(project, "docs/deprecated.ipynb", ["""
        import warnings

        def old_api():
            warnings.warn("old_api is deprecated; use new_api", FutureWarning, stacklevel=2)

        old_api()
    """])
    write_notebook(project, "docs/one_rank.ipynb", [("print('rank 0/2: alone')", "rank 0/2: alone\n")],
                   markers=["distributed"])
    result = project.runpytest()
    result.assert_outcomes(failed=3)
    result.stdout.fnmatch_lines_random([
        "*docs/walk.ipynb: cell 2, line 2: AssertionError: planted: y is not 3*",
        "*docs/deprecated.ipynb: cell 1, line 6: FutureWarning: old_api is deprecated; use new_api*",
        "*docs/one_rank.ipynb: a distributed notebook must show at least 2 processes*saw ?(0, 2)?*",
        "FAILED docs/walk.ipynb::notebook*",
    ])
    assert "never runs" not in result.stdout.str()


def test_notebook_output_is_compared_and_refreshed_by_update_notebooks(project):
    import sys

    import nbformat

    path = write_notebook(project, "docs/section/walk.ipynb", [
        (f"""
        import os, sys
        assert sys.executable == {sys.executable!r}, "the kernel runs another Python"
        assert os.listdir(".") == [], "the working folder starts empty"
        assert os.environ["HF_HUB_OFFLINE"] == "1" and os.environ["OMP_NUM_THREADS"] == "1"
        print("ratio", 2 / 3)
        """, "ratio 0.667\n"),  # a number matches to the precision the committed output shows
        ("import sys\nsys.stderr.write('library noise\\n')\nprint(6 * 7)\n6 * 7", "41\n"),
    ])
    result = project.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*docs/section/walk.ipynb: cell 2: the committed output differs*", "*41*",
                                 "*42*", "*pytest docs/section/walk.ipynb --update-notebooks*"])

    project.runpytest("--update-notebooks").assert_outcomes(passed=1)
    cells = nbformat.read(path, as_version=4).cells
    assert [c.execution_count for c in cells] == [1, 2]
    assert cells[1].outputs == [{"output_type": "stream", "name": "stdout", "text": "42\n"},
                                {"output_type": "execute_result", "execution_count": 2, "metadata": {},
                                 "data": {"text/plain": "42"}}]  # stderr is not kept
    assert all(c.metadata == {} for c in cells), "no per-run metadata (timings) in the cells"
    written = path.read_text()
    project.runpytest().assert_outcomes(passed=1)
    project.runpytest("--update-notebooks").assert_outcomes(passed=1)
    assert path.read_text() == written, "refreshing an unchanged notebook changed the file"


def test_notebook_markers_and_environment(project, monkeypatch):
    pyproject = project.path / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + textwrap.dedent("""
        [tool.llm-study.environments.special]
        paths = ["docs/special"]
        command = "nox -s special"
    """))
    write_notebook(project, "docs/on_gpu.ipynb", ["import torch\nassert torch.cuda.is_available()"],
                   markers=["gpu", "slow"])
    write_notebook(project, "docs/special/walk.ipynb", ["import only_in_special_env"])
    gpu = project.runpytest("-m", "gpu", "--collect-only", "-q")
    gpu.stdout.fnmatch_lines(["docs/on_gpu.ipynb::notebook", "1/2 tests collected*"])
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    result = project.runpytest("-rs")
    result.assert_outcomes(skipped=2)
    result.stdout.fnmatch_lines_random(["SKIPPED * gpu item: needs a CUDA GPU*",
                                        "SKIPPED * runs in the 'special' environment: `nox -s special`"])
    write_notebook(project, "docs/typo.ipynb", ["print()"], markers=["gpux"])
    result = project.runpytest("docs/typo.ipynb")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*docs/typo.ipynb: metadata.llm_study.markers: unknown marker 'gpux'*"])
