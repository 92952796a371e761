"""Feed it anything: a bad config.toml or a bad option is a short list of problems, exit code 2.

config.toml is edited by hand, so it will hold anything: a string where a
number goes, a learning rate of 5, a list of one, a misspelt key, a stray
quote, a setting written twice, bytes that are not UTF-8. Whatever it holds,
every command that reads it must:

- exit with code 2 (a usage problem), printing nothing on stdout;
- print one line per problem on stderr, each naming the setting, and never
  a traceback;
- leave the file exactly as it was (same bytes, same modification time) and
  write nothing else into the run folder.

The properties are checked with hypothesis against ``retro_gamer.cli.main``
in this process (fast), and a few cases again through a real subprocess.
``create``'s options and the other commands' options get the same treatment.
"""

import datetime
import math
import shutil

import pytest
import tomlkit
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from cli_helpers import CATCH, create_catch_run, file_snapshot, run_cli, run_main
from retro_gamer.run.settings import SECTIONS, SETTINGS, SETTINGS_BY_NAME

PROPERTY_SETTINGS = settings(max_examples=40, deadline=None, database=None,
                             phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
                             suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                    HealthCheck.too_slow])
INT64 = 2**63 - 1


@pytest.fixture(scope="module")
def good_config(tmp_path_factory):
    """The text of a valid config.toml (a quick Catch run)."""
    run_dir = create_catch_run(tmp_path_factory.mktemp("good") / "run")
    return (run_dir / "config.toml").read_text(encoding="utf-8")


@pytest.fixture
def run_dir(tmp_path):
    return tmp_path / "run"


def write_run(run_dir, config_bytes):
    """A run folder holding only ``config_bytes`` as its config.toml."""
    shutil.rmtree(run_dir, ignore_errors=True)
    run_dir.mkdir(parents=True)
    (run_dir / "config.toml").write_bytes(config_bytes)


def assert_refused(run_dir, commands=("train", "info"), problems=None):
    """Every command exits 2 with one line per problem, and touches nothing.

    ``problems`` lists a text each problem's line must hold (one line each),
    or is None when only the rules (exit 2, "error: ", no traceback) are known.
    Returns the message lines of the last command.
    """
    config = run_dir / "config.toml"
    before = file_snapshot(config)
    for command in commands:
        arguments = {"train": ["train", run_dir], "info": ["info", run_dir],
                     "clean": ["clean", "--yes", run_dir],
                     "evaluate": ["evaluate", run_dir, "--episodes", "1"]}[command]
        code, stdout, stderr = run_main(arguments)  # an exception escaping here is a traceback
        assert code == 2, f"{command}: exit {code}\n{stderr}"
        assert stdout == "", f"{command} printed {stdout!r}"
        assert "Traceback" not in stderr
        assert stderr.startswith("error: "), stderr
        lines = stderr.removeprefix("error: ").rstrip("\n").split("\n")
        if problems is not None:
            assert len(lines) == len(problems), f"{command}: expected {len(problems)} line(s):\n{stderr}"
            for problem in problems:
                assert sum(problem in line for line in lines) >= 1, f"no line names {problem}:\n{stderr}"
        assert file_snapshot(config) == before, f"{command} rewrote config.toml"
        assert sorted(path.name for path in run_dir.iterdir()) == ["config.toml"], (
            f"{command} wrote files into the run folder")
    return lines


# --- values of the wrong type, range or shape -------------------------------------

SCALARS = {
    "whole number": st.integers(-INT64, INT64),
    "number": st.floats(allow_nan=False, allow_infinity=False).filter(lambda x: not x.is_integer()),
    "true/false": st.booleans(),
    "string": st.text(max_size=12),
    "date": st.dates(min_value=datetime.date(1, 1, 1)),
    "list": st.lists(st.integers(-5, 5), max_size=3),
    "table": st.dictionaries(st.sampled_from(["a", "b", "velocity"]), st.integers(-5, 5), max_size=2),
}


def wrong_types(*allowed):
    """Values of every TOML type except the ``allowed`` ones."""
    return st.one_of(*[strategy for name, strategy in SCALARS.items() if name not in allowed])


def out_of_range(setting, numbers):
    """Numbers (``st.integers`` or ``st.floats``) outside the setting's bounds, or None."""
    choices = []
    if setting.minimum is not None:
        if numbers is st.integers:
            top = math.ceil(setting.minimum) - (0 if setting.above_minimum else 1)
            choices.append(st.integers(-INT64, top))
        else:
            choices.append(st.floats(max_value=setting.minimum, exclude_max=not setting.above_minimum,
                                     allow_nan=False, width=64))
    if setting.maximum is not None:
        if numbers is st.integers:
            choices.append(st.integers(math.floor(setting.maximum) + 1, INT64))
        else:
            choices.append(st.floats(min_value=setting.maximum, exclude_min=True, allow_nan=False))
    if numbers is st.floats:
        choices.append(st.sampled_from([math.nan, math.inf, -math.inf]))
    return st.one_of(*choices) if choices else None


def bad_values(setting):
    """Values that ``setting`` must refuse."""
    kind = setting.kind
    if kind == "bool":
        return wrong_types("true/false")
    if kind == "str":
        return wrong_types("string")
    if kind == "int":
        # TOML's 3.0 is a float: not a whole number, even though it is equal to one.
        choices = [wrong_types("whole number"), st.integers(-100, 100).map(float)]
        return st.one_of(*choices, out_of_range(setting, st.integers))
    if kind == "float":
        choices = [wrong_types("whole number", "number")]
        return st.one_of(*choices, out_of_range(setting, st.floats))
    if kind == "int_list":
        not_whole = st.one_of(st.text(max_size=3), st.booleans(), st.floats(allow_nan=False).map(lambda x: x + 0.5))
        choices = [wrong_types("list"),
                   st.lists(st.integers(1, 8), max_size=2).flatmap(
                       lambda good: not_whole.map(lambda bad: good + [bad]))]
        items = out_of_range(setting, st.integers)
        if items is not None:
            choices.append(st.lists(items, min_size=1, max_size=3))
        return st.one_of(*choices)
    if kind in ("str_list", "char_list"):
        text = st.text(min_size=1, max_size=1).filter(lambda c: c != " ")
        choices = [wrong_types("list"),
                   st.lists(st.one_of(st.integers(), st.booleans(), st.floats(allow_nan=False)),
                            min_size=1, max_size=3),
                   text.map(lambda item: [item, item])]  # the same item twice
        if kind == "char_list":
            choices += [st.just([" "]), st.text(min_size=2, max_size=4).map(lambda item: [item]),
                        st.just([""])]
        return st.one_of(*choices)
    if kind == "size_table":
        bad_size = st.one_of(st.integers(-INT64, 0), st.text(max_size=3), st.booleans(),
                             st.floats(allow_nan=False))
        return st.one_of(wrong_types("table"),
                         bad_size.map(lambda size: {"velocity": size}))
    raise AssertionError(f"no bad values for kind {kind}")


@st.composite
def a_bad_setting(draw, settings_table=SETTINGS):
    setting = draw(st.sampled_from(settings_table))
    return setting, draw(bad_values(setting))


def with_values(config_text, changes):
    """config.toml's text with ``changes`` ({(section, name): value}) written in by tomlkit."""
    document = tomlkit.parse(config_text)
    for (section, name), value in changes.items():
        if section not in document:
            document.add(section, tomlkit.table())
        document[section][name] = value
    return tomlkit.dumps(document).encode("utf-8")


@PROPERTY_SETTINGS
@given(bad=a_bad_setting())
def test_a_bad_value_is_one_line_naming_its_setting(good_config, run_dir, bad):
    setting, value = bad
    write_run(run_dir, with_values(good_config, {(setting.section, setting.name): value}))
    assert_refused(run_dir, problems=[f"{setting.section}.{setting.name} "])


@settings(PROPERTY_SETTINGS, max_examples=20)
@given(bad=a_bad_setting())
def test_clean_and_evaluate_refuse_a_bad_value_too(good_config, run_dir, bad):
    setting, value = bad
    write_run(run_dir, with_values(good_config, {(setting.section, setting.name): value}))
    assert_refused(run_dir, commands=("clean", "evaluate"), problems=[f"{setting.section}.{setting.name} "])


@PROPERTY_SETTINGS
@given(bads=st.lists(a_bad_setting(), min_size=2, max_size=6, unique_by=lambda bad: bad[0].name))
def test_every_problem_is_listed_at_once(good_config, run_dir, bads):
    changes = {(setting.section, setting.name): value for setting, value in bads}
    write_run(run_dir, with_values(good_config, changes))
    assert_refused(run_dir, problems=[f"{setting.section}.{setting.name} " for setting, _ in bads])


# --- unknown keys and sections -----------------------------------------------------

# Any printable name (line breaks in a key are the separate test below).
KEY_TEXT = st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1, max_size=20)


@st.composite
def unknown_keys(draw):
    """``(section, key)`` pairs that are no setting of that section."""
    pairs = draw(st.lists(st.tuples(st.sampled_from(SECTIONS), KEY_TEXT), min_size=1, max_size=4,
                          unique_by=lambda pair: pair))
    return [(section, key) for section, key in pairs
            if SETTINGS_BY_NAME.get(key) is None or SETTINGS_BY_NAME[key].section != section]


@PROPERTY_SETTINGS
@given(keys=unknown_keys().filter(bool), value=st.one_of(st.integers(), st.text(max_size=5), st.booleans()))
def test_an_unknown_key_is_one_line_naming_it(good_config, run_dir, keys, value):
    write_run(run_dir, with_values(good_config, {pair: value for pair in keys}))
    lines = assert_refused(run_dir, problems=["is not a setting retro-gamer knows"] * len(keys))
    for section, key in keys:
        assert any(section in line and "not a setting" in line for line in lines)


@PROPERTY_SETTINGS
@given(names=st.lists(KEY_TEXT.filter(lambda name: name not in SECTIONS), min_size=1, max_size=3,
                      unique=True))
def test_an_unknown_section_is_one_line_naming_it(good_config, run_dir, names):
    document = tomlkit.parse(good_config)
    for name in names:
        table = tomlkit.table()
        table.add("learning_rate", 0.5)
        document.add(name, table)
    write_run(run_dir, tomlkit.dumps(document).encode("utf-8"))
    assert_refused(run_dir, problems=["unknown section"] * len(names))


def test_a_key_with_a_line_break_is_still_one_line(good_config, run_dir):
    """TOML allows ``"a\\nb" = 1``; the message must not break the line-per-problem rule."""
    write_run(run_dir, (good_config + '"learning\\nrate" = 0.1\n').encode("utf-8"))
    assert_refused(run_dir, problems=["is not a setting retro-gamer knows"])


@pytest.mark.parametrize("old, new, problem", [
    ("learning_rate = 0.0001", "learnin_rate = 0.0001", "(did you mean learning_rate?)"),
    ("seed = 0", "seed = 0\nhidden_sizes = [64]", "(did you mean hidden_sizes in [model]?)"),
    ("seed = 0", "seed = 0\n[trainig]\nepsilon = 1.0", "(did you mean [training]?)"),
])
def test_a_misspelt_name_gets_a_suggestion(good_config, run_dir, old, new, problem):
    write_run(run_dir, good_config.replace(old, new).encode("utf-8"))
    assert_refused(run_dir, problems=[problem])


# --- files that are not TOML at all --------------------------------------------------

BROKEN_LINES = ["= 1", "[training", "seed =", 'module = "unterminated', "hidden = [1, 2",
                "table = {a = 1", "seed = 0 0", "seed = 1.2.3", "x = tru", "[]", "a b = 1",
                "x = 'it''s'", "x = 07:60:00", "x = 1979-13-01", "x = 1979-02-30", "x = 0x",
                'x = "\\q"', 'x = "\\uD800"']
NOT_UTF8_LINES = [b"\xff\xfe", b"caf\xe9 = 1", b"\x80", b"seed = \"\xc3\x28\""]


@st.composite
def broken_files(draw, good_text):
    """A good config.toml made unreadable: a broken line, a key or table written
    twice, a table over a setting, bytes that are not UTF-8."""
    lines = [line.encode("utf-8") for line in good_text.splitlines(keepends=True)]
    document = tomlkit.parse(good_text)
    how = draw(st.sampled_from(["broken line", "repeated key", "repeated table", "table over a setting",
                                "setting appended again", "not utf-8"]))
    if how == "broken line":
        lines.insert(draw(st.integers(0, len(lines))), draw(st.sampled_from(BROKEN_LINES)).encode() + b"\n")
    elif how == "repeated key":
        setting_lines = [line for line in lines if b"=" in line and not line.startswith(b"#")]
        line = draw(st.sampled_from(setting_lines))
        lines.insert(lines.index(line) + draw(st.integers(1, 2)), line)
    elif how == "repeated table":
        lines.append(f"[{draw(st.sampled_from(SECTIONS))}]\n".encode())
    elif how == "table over a setting":
        section = draw(st.sampled_from(SECTIONS))
        name = draw(st.sampled_from(list(document[section])))
        lines.append(f"[{section}.{name}]\nx = 1\n".encode())
    elif how == "setting appended again":  # the file ends in [training]
        lines.append(f"{draw(st.sampled_from(list(document['training'])))} = 1\n".encode())
    else:
        lines.insert(draw(st.integers(0, len(lines))), draw(st.sampled_from(NOT_UTF8_LINES)) + b"\n")
    return b"".join(lines)


@PROPERTY_SETTINGS
@given(data=st.data())
def test_a_file_that_is_not_toml_is_one_line_and_left_alone(good_config, run_dir, data):
    broken = data.draw(broken_files(good_config))
    write_run(run_dir, broken)
    lines = assert_refused(run_dir, problems=["config.toml"])
    assert str(run_dir / "config.toml") in lines[0]


@PROPERTY_SETTINGS
@given(data=st.data())
def test_a_cut_off_file_lists_what_is_missing(good_config, run_dir, data):
    """A file cut anywhere before its last required setting is complete."""
    end = good_config.index("character_set")
    end = good_config.index("]", end)
    cut = data.draw(st.integers(0, end))
    write_run(run_dir, good_config[:cut].encode("utf-8"))
    lines = assert_refused(run_dir)
    for line in lines:
        assert "is missing" in line or "is not valid TOML" in line or "not a setting" in line, line


def test_a_setting_written_twice_at_the_end_of_the_file(good_config, run_dir):
    """The likeliest hand edit of all: appending ``seed = 1`` to a file that has it."""
    write_run(run_dir, (good_config + "seed = 1\n").encode("utf-8"))
    assert_refused(run_dir, problems=["seed"])


def test_a_table_over_a_setting(good_config, run_dir):
    write_run(run_dir, (good_config + "[training.seed]\nx = 1\n").encode("utf-8"))
    assert_refused(run_dir, problems=["seed"])


def test_a_folder_where_config_toml_should_be(run_dir):
    (run_dir / "config.toml").mkdir(parents=True)
    for command in ("train", "info"):
        code, _, stderr = run_main([command, run_dir])
        assert code == 2, stderr
        assert "Traceback" not in stderr and "config.toml" in stderr


# --- the same, through a real process ---------------------------------------------

SUBPROCESS_CASES = {
    "a string for a number": ("[training]", "learning_rate = 0.0001", 'learning_rate = "fast"'),
    "out of range": ("[training]", "gamma = 0.99", "gamma = 1.5"),
    "misspelt key": ("[training]", "seed = 0", "sede = 0"),
    "broken syntax": ("[training]", "seed = 0", 'seed = "0'),
    "written twice": ("[training]", "seed = 0", "seed = 0\nseed = 1"),
}


@pytest.mark.parametrize("case", SUBPROCESS_CASES)
def test_a_real_process_prints_one_line_and_exits_2(good_config, run_dir, case):
    _, old, new = SUBPROCESS_CASES[case]
    assert old in good_config
    write_run(run_dir, good_config.replace(old, new).encode("utf-8"))
    before = file_snapshot(run_dir / "config.toml")
    for command in ("train", "info"):
        code, stdout, stderr = run_cli([command, run_dir])
        assert code == 2, stderr
        assert "Traceback" not in stderr
        assert stderr.startswith("error: ") and stderr.count("\n") == 1, stderr
    assert file_snapshot(run_dir / "config.toml") == before


# --- create's options ----------------------------------------------------------

def option(setting):
    return "--" + setting.name.replace("_", "-")


NOT_A_NUMBER = st.text(alphabet="abcxyz,;-+ ", min_size=1, max_size=6).filter(
    lambda text: not _is_number(text))


def _is_number(text):
    try:
        float(text)
    except ValueError:
        return False
    return True


@st.composite
def bad_create_options(draw):
    """``[--option, text]`` that argparse or the settings' validation must refuse."""
    user_settings = [s for s in SETTINGS if s.name not in ("module", "board_size")
                     and s.kind in ("int", "float", "int_list", "char_list", "size_table", "bool")]
    setting = draw(st.sampled_from(user_settings))
    kind = setting.kind
    if kind == "bool":
        return [f"{option(setting)}={draw(st.sampled_from(['yes', 'no', '1', 'true']))}"]
    if kind in ("int", "float"):
        numbers = st.integers if kind == "int" else st.floats
        texts = [NOT_A_NUMBER]
        if kind == "int":
            texts.append(st.floats(allow_nan=False, allow_infinity=False)
                         .filter(lambda x: not x.is_integer()).map(repr))
        too_far = out_of_range(setting, numbers)
        if too_far is not None:
            texts.append(too_far.map(str))
        return [option(setting), draw(st.one_of(*texts))]
    if kind == "int_list":
        items = [st.just("0"), st.just("x"), st.just("1.5"), st.just("-3")]
        return [option(setting), ",".join(draw(st.lists(st.one_of(*items), min_size=1, max_size=3)))]
    if kind == "char_list":
        return [option(setting), draw(st.sampled_from([" ", "oo", "= =", "=o="]))]
    return [option(setting), draw(st.sampled_from(["velocity", "velocity=0", "velocity=x", "=2",
                                                   "velocity=2"]))]


@PROPERTY_SETTINGS
@given(options=bad_create_options())
def test_create_refuses_bad_options_and_writes_nothing(tmp_path, options):
    output = tmp_path / "new_run"
    shutil.rmtree(output, ignore_errors=True)
    code, stdout, stderr = run_main(["create", "--game", CATCH, "--output", output, *options])
    assert code == 2, f"{options}: exit {code}\n{stdout}{stderr}"
    assert "Traceback" not in stderr
    assert "error: " in stderr
    assert not output.exists(), f"{options}: create made {output} although it failed"


@pytest.mark.parametrize("arguments", [
    ["train"], ["train", "a", "b"], ["train", "--epsilon", "0.5", "x"], ["info"],
    ["evaluate", "x", "--episodes", "0"], ["evaluate", "x", "--episodes", "-3"],
    ["evaluate", "x", "--episodes", "many"], ["evaluate", "x", "--seed", "1.5"],
    ["play", "x", "--framerate", "0"], ["play", "x", "--episodes", "two"],
    ["plot", "x", "--metric", "happiness"], ["plot", "x", "--width", "0"],
    ["create", "--game", CATCH], ["create", "--output", "x"], ["clean", "x", "--force"],
    ["fly", "x"],
])
def test_other_bad_arguments_are_usage_errors(tmp_path, arguments):
    code, stdout, stderr = run_main(arguments)
    assert code == 2, stderr
    assert "Traceback" not in stderr
    assert "error:" in stderr and "--help" in stderr
    assert not (tmp_path / "x").exists()
