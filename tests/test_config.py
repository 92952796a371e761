"""run/settings.py, validation.py and config_file.py: the table, validation, config.toml round trips, the compatibility check."""

import tomlkit
import dataclasses

import pytest

from retro_gamer.run import config_file, validation
from retro_gamer.run import settings as config
from retro_gamer.errors import ConfigError


def snake_values(**changes):
    values = {
        "game": {"module": "retro.examples.snake"},
        "metadata": {"actions": ["KEY_RIGHT", "KEY_UP", "KEY_LEFT", "KEY_DOWN"], "reward": "score",
                     "board_size": [32, 16], "character_set": ["@", "*", ">", "<", "^", "v"]},
        "preprocessing": {}, "model": {}, "training": {},
    }
    for dotted, value in changes.items():
        section, name = dotted.split(".")
        values[section][name] = value
    return values


def test_every_setting_has_help_and_a_known_kind():
    kinds = {"int", "float", "bool", "str", "str_list", "int_list", "char_list", "size_table"}
    for setting in config.SETTINGS:
        assert setting.kind in kinds
        assert setting.section in config.SECTIONS
        assert setting.help and "\n" not in setting.help
    names = [setting.name for setting in config.SETTINGS]
    assert len(names) == len(set(names))


def test_shape_settings_match_the_walkthrough():
    shape = {setting.name for setting in config.SHAPE_SETTINGS}
    for name in ["actions", "reward", "character_set", "board_size", "spatial", "board", "observe_state",
                 "observe_state_sizes", "egocentric", "egocentric_player", "egocentric_radius", "hidden_sizes"]:
        assert name in shape
    for name in ["training_episodes", "learning_rate", "gamma", "epsilon", "batch_size", "train_every",
                 "memory_capacity", "prioritize_experiences", "target_update_freq"]:
        assert name not in shape


def test_defaults_fill_in_and_values_are_plain_python():
    settings = validation.validate(snake_values())
    assert settings.learning_rate == 0.0001 and type(settings.learning_rate) is float
    assert settings.hidden_sizes == [128, 64]
    assert settings.gamma == 0.99
    assert settings.training_episodes == 1000


def test_tomlkit_values_are_unwrapped():
    document = tomlkit.parse('[training]\nlearning_rate = 0.001\nbatch_size = 32\n')
    values = snake_values()
    values["training"] = document["training"]
    settings = validation.validate({k: (dict(v) if hasattr(v, "items") else v) for k, v in values.items()})
    assert type(settings.learning_rate) is float
    assert type(settings.batch_size) is int


def test_every_problem_is_listed_at_once():
    values = snake_values(**{"training.learning_rate": "fast", "training.batch_size": 0,
                             "training.gamma": 1.5, "preprocessing.spatial": "yes",
                             "training.learnig_rate_decay": 0.9})
    with pytest.raises(ConfigError) as caught:
        validation.validate(values)
    message = str(caught.value)
    lines = message.splitlines()
    assert len(lines) == 5
    assert "training.learning_rate must be a number" in message
    assert "training.batch_size must be at least 1" in message
    assert "training.gamma must be at most 1.0" in message
    assert "preprocessing.spatial must be true or false" in message
    assert "did you mean learning_rate_decay" in message


def test_cross_checks():
    values = snake_values(**{"training.batch_size": 500, "training.memory_capacity": 100})
    with pytest.raises(ConfigError, match="batch_size .500. must not be larger than training.memory_capacity"):
        validation.validate(values)
    with pytest.raises(ConfigError, match="egocentric_player is empty"):
        validation.validate(snake_values(**{"preprocessing.egocentric": True}))
    with pytest.raises(ConfigError, match="would see nothing"):
        validation.validate(snake_values(**{"preprocessing.board": False}))


def test_unknown_section_and_setting_in_wrong_section():
    values = snake_values()
    values["trainig"] = {}
    values["training"]["hidden_sizes"] = [32]
    with pytest.raises(ConfigError) as caught:
        validation.validate(values)
    assert "did you mean [training]" in str(caught.value)
    assert "did you mean hidden_sizes in [model]" in str(caught.value)


def test_character_set_rules():
    with pytest.raises(ConfigError, match="single characters"):
        validation.validate(snake_values(**{"metadata.character_set": ["@@"]}))
    with pytest.raises(ConfigError, match="more than once"):
        validation.validate(snake_values(**{"metadata.character_set": ["@", "@"]}))
    with pytest.raises(ConfigError, match="space"):
        validation.validate(snake_values(**{"metadata.character_set": [" "]}))


def test_missing_required_setting():
    values = snake_values()
    del values["metadata"]["reward"]
    with pytest.raises(ConfigError, match="metadata.reward is missing"):
        validation.validate(values)


def test_written_file_teaches_and_round_trips(tmp_path):
    settings = validation.validate(snake_values())
    config_file.write_new_config(tmp_path, settings)
    text = (tmp_path / "config.toml").read_text()
    for setting in config.SETTINGS:
        if setting.name == "factory":
            continue
        assert f"# {setting.help}" in text
        assert f"\n{setting.name} = " in text
    assert config_file.read_config(tmp_path) == settings


def test_user_edits_and_comments_survive_an_update(tmp_path):
    settings = validation.validate(snake_values())
    config_file.write_new_config(tmp_path, settings)
    path = tmp_path / "config.toml"
    text = path.read_text().replace("gamma = 0.99", "gamma = 0.95  # my own note")
    path.write_text(text + "\n# a comment of my own\n")
    config_file.update_config(tmp_path, {"training_episodes": 2000})
    after = path.read_text()
    assert "gamma = 0.95  # my own note" in after
    assert "# a comment of my own" in after
    assert config_file.read_config(tmp_path).training_episodes == 2000


def test_broken_toml_says_where(tmp_path):
    (tmp_path / "config.toml").write_text("[training]\nlearning_rate = = 3\n")
    with pytest.raises(ConfigError, match="not valid TOML.*line 2"):
        config_file.read_config(tmp_path)


def test_missing_folder_and_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        config_file.read_config(tmp_path / "nowhere")
    with pytest.raises(ConfigError, match="not a training run"):
        config_file.read_config(tmp_path)


def test_incompatible_changes_name_was_now_why():
    before = validation.validate(snake_values())
    after = validation.validate(snake_values(**{"metadata.character_set": ["@", "*", ">", "<", "^", "v", "#"],
                                            "training.learning_rate": 0.01}))
    changes = config.incompatible_changes(config.shape_snapshot(before), after)
    assert [setting.name for setting, _, _ in changes] == ["character_set"]
    message = config.incompatibility_message("ep_0500.npz", changes, "runs/snake/")
    assert message.startswith("Cannot resume from ep_0500.npz: incompatible changes detected in config.toml.")
    assert "was : ['@', '*', '>', '<', '^', 'v']" in message
    assert "now : ['@', '*', '>', '<', '^', 'v', '#']" in message
    assert "why : the set of board characters (changes input layer size)" in message
    assert "retro-gamer clean runs/snake/" in message


def test_settings_are_one_frozen_object_whose_fields_are_the_table():
    settings = validation.validate(snake_values())
    assert isinstance(settings, config.Settings)
    assert settings.epsilon_min == 0.05 and settings.actions == ["KEY_RIGHT", "KEY_UP", "KEY_LEFT", "KEY_DOWN"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.epsilon_min = 0.5
    assert [row.name for row in config.SETTINGS] == [item.name for item in dataclasses.fields(config.Settings)]
    # list defaults are copies: one run's list is not another's
    other = validation.validate(snake_values())
    assert settings.observe_state == other.observe_state and settings.observe_state is not other.observe_state
