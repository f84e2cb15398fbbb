"""The documents work as written: README.md and docs/*.md.

* every relative link resolves (and its anchor, on a code host and in the MkDocs site alike);
* every repository path they name (``configs/...``, ``tools/...``, ``pyskl/...``, ``docs/...``,
  ``tests/...``) exists, placeholders such as ``<model>`` and ``{j,b}`` matching at least one file;
* every ``pyskl.x.y`` name in backticks imports;
* every fenced Python snippet compiles, and those that run on the demo data run, in order with the
  page's commands, in a subprocess in a scratch folder;
* every ``python tools/...`` / ``bash tools/...`` command names an existing script, whose ``--help``
  exits 0 (Python) or which parses (``bash -n``);
* the README is a landing page of at most 10 KB, and no page but the changelog and the benchmarks
  carries history (issue numbers, earlier runs).

A snippet or command runs without training when everything it reads is the demo's: the demo
config and data, and ``work_dirs/dgstgcn/demo/j/epoch_12.pth``, which the scratch folder holds as an
untrained demo model (the documents say what to run, not what it scores). The slow test trains the
demo as the documents say, then runs every step that uses it with the trained model.
"""
import importlib
import importlib.util
import itertools
import os
import re
import shlex
import shutil
import subprocess
import sys
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
README = REPO / 'README.md'
DOC_PAGES = sorted((REPO / 'docs').glob('*.md'))
DOCUMENTS = [README, *DOC_PAGES]
# Checked for links, paths and history too: the per-model notes the documents point to.
NOTES = sorted(REPO.glob('configs/*/README.md'))
HISTORY_ALLOWED = {'changelog.md', 'benchmarks.md'}

PATH_ROOTS = ('configs', 'tools', 'pyskl', 'docs', 'tests')
DEMO_CHECKPOINT = 'work_dirs/dgstgcn/demo/j/epoch_12.pth'
DEMO_CONFIGS = 'configs/dgstgcn/demo/'
# Tools cheap enough to run on the demo in the fast tests (seconds each).
CHEAP_TOOLS = {'tools/infer.py', 'tools/deployment/export.py', 'tools/vis_skeleton.py', 'tools/test.py',
               'tools/ensemble.py'}
TRAINING_TOOLS = {'tools/train.py'}
INPUT_SUFFIXES = ('.pth', '.pkl', '.npy', '.onnx', '.pt2', '.json', '.csv')
# Which of a page's steps the fast tests run; a smaller count means a snippet stopped running.
MIN_FAST_STEPS = {'inference.md': 6, 'configs.md': 4, 'prepare_data.md': 2, 'train_test.md': 1}


# ----------------------------------------------------------------------------------------------
# Reading Markdown


@dataclass
class Block:
    path: Path
    line: int
    lang: str
    text: str


def split_markdown(path: Path) -> tuple[str, list[Block]]:
    """The prose (fenced blocks blanked) and the fenced blocks of a Markdown file."""
    prose, blocks, fence = [], [], None
    for number, line in enumerate(path.read_text(encoding='utf-8').splitlines(), 1):
        stripped = line.strip()
        if fence is None and stripped.startswith('```'):
            fence = Block(path, number + 1, stripped[3:].strip().lower(), '')
            prose.append('')
        elif fence is not None and stripped.startswith('```'):
            blocks.append(fence)
            fence = None
            prose.append('')
        elif fence is not None:
            fence.text += line + '\n'
            prose.append('')
        else:
            prose.append(line)
    if fence is not None:
        raise AssertionError(f'{path.name}:{fence.line - 1}: a fenced block is not closed')
    return '\n'.join(prose), blocks


def github_slug(heading: str) -> str:
    text = re.sub(r'[`*_]|\[([^\]]*)\]\([^)]*\)', r'\1', heading).strip().lower()
    return re.sub(r'[^\w\- ]', '', text).replace(' ', '-')


def mkdocs_slug(heading: str) -> str:
    """Python-Markdown's toc slugify, as MkDocs builds the site's anchors."""
    text = re.sub(r'[`*_]|\[([^\]]*)\]\([^)]*\)', r'\1', heading)
    text = unicodedata.normalize('NFKD', text).encode('ascii', 'ignore').decode()
    text = re.sub(r'[^\w\s-]', '', text).strip().lower()
    return re.sub(r'[-\s]+', '-', text)


def anchors(path: Path) -> set:
    """The anchors of a Markdown file that both a code host and MkDocs give it."""
    prose, _ = split_markdown(path)
    found = set()
    for heading in re.findall(r'^#{1,6}\s+(.+?)\s*#*$', prose, flags=re.M):
        if github_slug(heading) == mkdocs_slug(heading):
            found.add(github_slug(heading))
    return found


LINK = re.compile(r'!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)')
CODE_SPAN = re.compile(r'`([^`\n]+)`')
PATH_TOKEN = re.compile(r'(?<![\w./$-])((?:' + '|'.join(PATH_ROOTS) + r')/(?:[^\s`\'"()\[\];:,{}]|\{[^}\s]*\})*)')


def links(path: Path) -> list[str]:
    prose, _ = split_markdown(path)
    prose = CODE_SPAN.sub('', prose)
    return [target for target in LINK.findall(prose)
            if not re.match(r'[a-z][a-z0-9+.-]*:', target)]  # http:, https:, mailto: ...


def named_paths(path: Path) -> list[str]:
    """Repository paths named in code spans and fenced blocks."""
    prose, blocks = split_markdown(path)
    texts = CODE_SPAN.findall(prose) + [block.text for block in blocks]
    found = []
    for text in texts:
        for token in PATH_TOKEN.findall(text):
            found.append(token.rstrip('.'))
    return found


def expand(pattern: str) -> list[str]:
    """A named path as glob patterns: ``{a,b}`` alternatives, ``<placeholder>`` -> ``*``."""
    pattern = re.sub(r'<[^>/]*>', '*', pattern)
    parts = re.split(r'(\{[^}]*\})', pattern)
    choices = [part[1:-1].split(',') if part.startswith('{') else [part] for part in parts]
    return [''.join(combination) for combination in itertools.product(*choices)]


def exists(pattern: str) -> bool:
    return all(any(True for _ in REPO.glob(alternative.rstrip('/'))) if '*' in alternative
               else (REPO / alternative).exists() for alternative in expand(pattern))


def dotted_names(path: Path) -> list[str]:
    prose, _ = split_markdown(path)
    return [m.group(1) for span in CODE_SPAN.findall(prose)
            for m in [re.match(r'(pyskl(?:\.\w+)+)', span)] if m]


# ----------------------------------------------------------------------------------------------
# Snippets and commands


@dataclass
class Step:
    page: str
    line: int
    kind: str            # 'python' or 'command'
    text: str            # the snippet, or the command line
    argv: list | None = None

    @property
    def script(self) -> str | None:
        return self.argv[1] if self.argv else None

    def __str__(self):
        return f'{self.page}:{self.line}'


def command_lines(text: str) -> list[list[str]]:
    """Shell command lines of a block: continuations joined, comments dropped, split at && and ;."""
    joined = re.sub(r'\\\n\s*', ' ', text)
    commands = []
    for line in joined.splitlines():
        try:
            tokens = shlex.split(line, comments=True)
        except ValueError:
            continue
        segment = []
        for token in tokens + ['&&']:
            if token in ('&&', ';', '||'):
                if segment:
                    commands.append(segment)
                segment = []
            else:
                segment.append(token)
    return commands


def tool_argv(tokens: list[str]) -> list[str] | None:
    """``[interpreter, tools/...script, args...]`` of a command that runs a tool, else None."""
    while tokens and re.match(r'^[A-Z_][A-Z0-9_]*=', tokens[0]):   # NNODES=2 ... before the command
        tokens = tokens[1:]
    if len(tokens) >= 2 and tokens[0] in ('python', 'python3', 'bash') and tokens[1].startswith('tools/'):
        return tokens
    return None


def steps(path: Path) -> list[Step]:
    _, blocks = split_markdown(path)
    found = []
    for block in blocks:
        if block.lang == 'python':
            found.append(Step(path.name, block.line, 'python', block.text))
        elif block.lang in ('bash', 'sh', 'shell', 'console', ''):
            for tokens in command_lines(block.text):
                argv = tool_argv(tokens)
                if argv:
                    found.append(Step(path.name, block.line, 'command', shlex.join(argv), argv))
    return found


ALL_STEPS = [step for document in DOCUMENTS for step in steps(document)]
PYTHON_SNIPPETS = [step for step in ALL_STEPS if step.kind == 'python']
COMMANDS = [step for step in ALL_STEPS if step.kind == 'command']


def reads_other_data(step: Step) -> bool:
    """The step names a dataset under data/, or (a command) a placeholder: path/to, CONFIG, PARTITION ..."""
    if step.kind == 'python':
        return bool(re.search(r"['\"]data/", step.text))
    return bool(re.search(r'(?<![\w/])data/|path/to|\b[A-Z][A-Z_]{3,}\b(?!=)', step.text))


def inputs(step: Step) -> list[str]:
    """The files a command reads: its file arguments, except what --out and --work-dir name."""
    args, found = step.argv[2:], []
    for previous, arg in zip([None] + args, args):
        if previous in ('--out', '--work-dir', '--json') or arg.startswith('-'):
            continue
        if arg.endswith(INPUT_SUFFIXES):
            found.append(arg)
    return found


def runnable(step: Step, workspace: Path, may_train: bool) -> bool:
    if reads_other_data(step):
        return False
    if step.kind == 'python':
        if 'onnxruntime' in step.text and not has_module('onnxruntime'):
            return False
        return all((workspace / name).exists() or name.startswith(PATH_ROOTS)
                   for name in re.findall(r"'([\w./-]+\.(?:pth|npy|onnx|pkl))'", step.text)
                   if not re.search(rf"(save|dump_pickle)\([^)]*'{re.escape(name)}'", step.text))
    if step.script in TRAINING_TOOLS:
        return may_train and step.argv[2].startswith(DEMO_CONFIGS)
    if step.script not in CHEAP_TOOLS:
        return False
    if step.script == 'tools/deployment/export.py' and not has_module('onnxruntime'):
        return False
    return all((workspace / name).exists() for name in inputs(step))


def has_module(name: str) -> bool:
    return importlib.util.find_spec(name) is not None


def environment() -> dict:
    env = dict(os.environ, MPLBACKEND='Agg', PYTHONPATH=os.pathsep.join(
        [str(REPO)] + ([os.environ['PYTHONPATH']] if os.environ.get('PYTHONPATH') else [])))
    env.pop('PYSKL_DEBUG', None)
    return env


SNIPPET_RUNNER = r'''
import sys, traceback
for path in sys.argv[1:]:
    source = open(path, encoding='utf-8').read()
    try:
        exec(compile(source, path, 'exec'), {'__name__': '__main__'})
    except BaseException:
        traceback.print_exc()
        print(f'SNIPPET FAILED: {path}', file=sys.stderr)
        sys.exit(1)
'''


def run_steps(page_steps: list[Step], workspace: Path, may_train: bool, timeout: int) -> list[Step]:
    """Run the runnable steps in order in ``workspace``; consecutive snippets share one interpreter
    (each in a namespace of its own). Returns the steps that ran."""
    ran, pending = [], []

    def flush():
        if not pending:
            return
        files = []
        for number, step in enumerate(pending):
            file = workspace / f'snippet_{step.page[:-3]}_{step.line}_{number}.py'
            file.write_text(step.text, encoding='utf-8')
            files.append(str(file))
        result = subprocess.run([sys.executable, '-c', SNIPPET_RUNNER, *files], cwd=workspace, env=environment(),
                                capture_output=True, text=True, timeout=timeout)
        assert result.returncode == 0, (f'snippets {", ".join(map(str, pending))} failed:\n'
                                        f'{result.stdout[-3000:]}\n{result.stderr[-3000:]}')
        ran.extend(pending)
        pending.clear()

    for step in page_steps:
        if pending and (step.kind == 'command' or not runnable(step, workspace, may_train)):
            flush()   # the step may read what the snippets before it write
        if not runnable(step, workspace, may_train):
            continue
        if step.kind == 'python':
            pending.append(step)
            continue
        argv = [sys.executable if step.argv[0].startswith('python') else step.argv[0], *step.argv[1:]]
        result = subprocess.run(argv, cwd=workspace, env=environment(), capture_output=True, text=True,
                                timeout=timeout)
        assert result.returncode == 0, (f'{step}: `{step.text}` exited {result.returncode}:\n'
                                        f'{result.stdout[-3000:]}\n{result.stderr[-3000:]}')
        ran.append(step)
    flush()
    return ran


def make_workspace(folder: Path) -> Path:
    """A scratch folder laid out like the repository root, for commands run from it."""
    for name in ('configs', 'tools'):
        (folder / name).symlink_to(REPO / name, target_is_directory=True)
    return folder


@pytest.fixture(scope='module')
def untrained_demo_checkpoint(tmp_path_factory) -> Path:
    """The demo model with its initial weights, saved as a training saves its checkpoints."""
    import torch
    from mmengine import Config

    from pyskl.models import build_model

    torch.manual_seed(0)
    model = build_model(Config.fromfile(str(REPO / 'configs/dgstgcn/demo/j.py')).model)
    path = tmp_path_factory.mktemp('checkpoint') / 'epoch_12.pth'
    torch.save({'meta': {'epoch': 8}, 'state_dict': model.state_dict()}, path)
    return path


# ----------------------------------------------------------------------------------------------
# Tests


def test_the_readme_is_a_landing_page():
    size = README.stat().st_size
    assert size <= 10 * 1024, f'README.md is {size} bytes; the landing page stays within 10 KB'
    prose, _ = split_markdown(README)
    sections = re.findall(r'^## (.+)$', prose, flags=re.M)
    for section in ('Install', 'Quick start', 'Model zoo', 'Documentation', 'Repository layout'):
        assert section in sections, f'README.md lacks its "{section}" section'
    for page in DOC_PAGES:
        if page.name != 'index.md':
            assert f'docs/{page.name}' in prose, f'README.md does not link docs/{page.name}'


@pytest.mark.parametrize('document', DOCUMENTS + NOTES, ids=lambda p: str(p.relative_to(REPO)))
def test_links_resolve(document):
    broken = []
    for target in links(document):
        file, _, anchor = target.partition('#')
        resolved = (document.parent / file).resolve() if file else document
        if not resolved.is_relative_to(REPO) or not resolved.exists():
            broken.append(f'{target}: no such file')
        elif anchor and resolved.suffix == '.md' and anchor not in anchors(resolved):
            broken.append(f'{target}: no heading with that anchor (on a code host and in the site alike)')
    assert not broken, f'{document.name}: ' + '; '.join(broken)


@pytest.mark.parametrize('document', DOCUMENTS + NOTES, ids=lambda p: str(p.relative_to(REPO)))
def test_named_paths_exist(document):
    missing = sorted({path for path in named_paths(document) if not exists(path)})
    assert not missing, f'{document.name} names paths that do not exist: {missing}'


def test_named_paths_are_found():
    """The path finder itself: it sees paths in prose and blocks, and expands placeholders."""
    names = named_paths(REPO / 'docs' / 'configs.md')
    assert 'configs/dgstgcn/ntu60_xsub_3dkp/j.py' in names
    assert 'configs/<model>/<benchmark>/<stream>.py' in names
    assert exists('configs/<model>/<benchmark>/<stream>.py')
    assert exists('configs/dgstgcn/nwucla_xview/{j,b}_cpu.py')
    assert not exists('configs/dgstgcn/nwucla_xview/{j,x}_cpu.py')
    assert not exists('tools/no_such_tool.py')


@pytest.mark.parametrize('document', DOCUMENTS, ids=lambda p: p.name)
def test_pyskl_names_import(document):
    missing = []
    for name in dotted_names(document):
        parts = name.split('.')
        for cut in range(len(parts), 0, -1):
            try:
                obj = importlib.import_module('.'.join(parts[:cut]))
            except ImportError:
                continue
            try:
                for attribute in parts[cut:]:
                    obj = getattr(obj, attribute)
            except AttributeError:
                missing.append(name)
            break
        else:
            missing.append(name)
    assert not missing, f'{document.name} names what pyskl does not have: {missing}'


def test_no_history_outside_the_changelog_and_benchmarks():
    pattern = re.compile(r"\bissues?\s+#?[1-9]\d?\b|#[1-9]\d?\b(?!-)|\bearlier run|the issue's", re.I)
    found = []
    for document in DOCUMENTS + NOTES:
        if document.parent.name == 'docs' and document.name in HISTORY_ALLOWED:
            continue
        prose, _ = split_markdown(document)
        for match in pattern.finditer(prose):
            line = prose[:match.start()].count('\n') + 1
            found.append(f'{document.relative_to(REPO)}:{line}: {match.group(0)!r}')
    assert not found, 'history belongs in docs/changelog.md: ' + '; '.join(found)


def test_every_page_is_in_the_site():
    import yaml
    config = yaml.safe_load((REPO / 'mkdocs.yml').read_text(encoding='utf-8'))
    assert config['theme']['name'] == 'material'
    in_nav = {list(entry.values())[0] for entry in config['nav']}
    assert in_nav == {page.name for page in DOC_PAGES}


def test_python_snippets_compile():
    assert PYTHON_SNIPPETS, 'no Python snippet found: the parser is broken'
    for step in PYTHON_SNIPPETS:
        compile(step.text, str(step), 'exec')


def test_commands_name_existing_scripts():
    assert COMMANDS, 'no tool command found: the parser is broken'
    missing = sorted({f'{step}: {step.script}' for step in COMMANDS if not (REPO / step.script).is_file()})
    assert not missing, f'commands name scripts that do not exist: {missing}'
    wrong = sorted({f'{step}: {step.argv[0]} {step.script}' for step in COMMANDS
                    if step.script.endswith('.sh') != (step.argv[0] == 'bash')})
    assert not wrong, f'run .py with python and .sh with bash: {wrong}'


HELP_RUNNER = r'''
import contextlib, io, runpy, sys
failed = []
for script in sys.argv[1:]:
    out = io.StringIO()
    sys.argv = [script, '--help']
    code = 0
    try:
        with contextlib.redirect_stdout(out):
            runpy.run_path(script, run_name='__main__')
    except SystemExit as stop:
        code = stop.code or 0
    if code != 0 or 'usage' not in out.getvalue().lower():
        failed.append(f'{script} (exit {code})')
print('FAILED: ' + ', '.join(failed) if failed else 'ok')
'''


def test_scripts_answer_help():
    scripts = sorted({step.script for step in COMMANDS if step.script.endswith('.py')})
    result = subprocess.run([sys.executable, '-c', HELP_RUNNER, *scripts], cwd=REPO, env=environment(),
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0 and result.stdout.strip().endswith('ok'), (result.stdout + result.stderr)[-3000:]
    for script in sorted({step.script for step in COMMANDS if step.script.endswith('.sh')}):
        check = subprocess.run(['bash', '-n', script], cwd=REPO, capture_output=True, text=True)
        assert check.returncode == 0, f'{script} does not parse: {check.stderr}'


@pytest.mark.parametrize('page', [page for page in DOC_PAGES if page.name in MIN_FAST_STEPS], ids=lambda p: p.name)
def test_page_runs_on_the_demo(page, tmp_path, untrained_demo_checkpoint):
    """The page's snippets and cheap commands, in order, with an untrained demo checkpoint."""
    workspace = make_workspace(tmp_path)
    checkpoint = workspace / DEMO_CHECKPOINT
    checkpoint.parent.mkdir(parents=True)
    shutil.copy(untrained_demo_checkpoint, checkpoint)
    ran = run_steps(steps(page), workspace, may_train=False, timeout=600)
    print(f'{page.name}: ran {len(ran)} steps: ' + ', '.join(f'{s.kind} {s}' for s in ran))
    expected = MIN_FAST_STEPS[page.name]
    if not has_module('onnxruntime'):
        expected -= sum(1 for s in steps(page) if 'onnx' in s.text)
    assert len(ran) >= expected, f'{page.name}: only {len(ran)} steps ran; a snippet stopped running on the demo'


def test_no_training_in_the_fast_tests(tmp_path):
    """Nothing the documents call a training runs in the fast tests; the slow test trains the demo."""
    for step in COMMANDS:
        if step.script in TRAINING_TOOLS:
            assert not runnable(step, tmp_path, may_train=False), step
    trainings = [step for step in COMMANDS if step.script in TRAINING_TOOLS and runnable(step, tmp_path, True)]
    assert len(trainings) >= 3, 'the quick start and the two-stream demo should train in the slow test'


@pytest.mark.slow
def test_the_documents_work_as_written_on_the_demo(tmp_path):
    """A new user's path: the README's quick start, Get started's two streams, then every page's
    steps on the demo with the checkpoint those trainings wrote."""
    workspace = make_workspace(tmp_path)
    order = [README] + [REPO / 'docs' / name for name in
                        ('get_started.md', 'train_test.md', 'configs.md', 'prepare_data.md', 'inference.md')]
    ran = []
    for page in order:
        ran += run_steps(steps(page), workspace, may_train=True, timeout=1800)
    assert (workspace / DEMO_CHECKPOINT).is_file()
    assert any(step.script == 'tools/ensemble.py' for step in ran if step.kind == 'command')
    assert sum(1 for step in ran if step.kind == 'command' and step.script in TRAINING_TOOLS) >= 3
    print(f'ran {len(ran)} steps: ' + ', '.join(f'{s.kind} {s}' for s in ran))
