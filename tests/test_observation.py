"""What the agent sees: codes against a plain reference encoder, egocentric
windows at every edge, observed state values and their errors, the layout."""

import random
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from retro_gamer.game.environment import Environment
from retro_gamer.errors import ObservationError
from retro_gamer.game.loading import load_game
from retro_gamer.game.observation import ObservationLayout, Observer

GAMES = Path(__file__).parent / "games"
ARROWS = ["KEY_LEFT", "KEY_RIGHT", "KEY_UP", "KEY_DOWN"]
LEFT, RIGHT, UP, DOWN, NO_OP = range(5)


# ---------------------------------------------------------------- reference encoders


def reference_codes(board_characters, character_set):
    """The codes, one cell at a time: the definition the fast encoder must match."""
    height, width = len(board_characters), len(board_characters[0])
    codes = np.zeros((height, width), dtype=np.uint8)
    for y in range(height):
        for x in range(width):
            character = board_characters[y][x]
            if character in character_set:
                codes[y, x] = character_set.index(character) + 1
    return codes


def reference_window(board_characters, character_set, center, radius):
    """The egocentric window, one cell at a time; off-board cells get the edge code."""
    codes = reference_codes(board_characters, character_set)
    height, width = codes.shape
    edge_code = len(character_set) + 1
    center_x, center_y = center
    side = 2 * radius + 1
    window = np.zeros((side, side), dtype=np.uint8)
    for row in range(side):
        for column in range(side):
            x, y = center_x - radius + column, center_y - radius + row
            if 0 <= x < width and 0 <= y < height:
                window[row, column] = codes[y, x]
            else:
                window[row, column] = edge_code
    return window


def drawn_cells_of(board_characters):
    """The occupied cells of a board written as rows, as BoardView lists them."""
    return [(x, y, character) for y, row in enumerate(board_characters)
            for x, character in enumerate(row) if character != " "]


def fake_game(state=None, player_position=None):
    """Just what encode() reads from a game: its state, turn and named agents."""
    agents = {} if player_position is None else {"hero": SimpleNamespace(position=player_position)}
    return SimpleNamespace(state=state or {}, turn_number=0, agents_by_name=agents)


# ---------------------------------------------------------------- codes on real games


@pytest.mark.parametrize(
    "spec, character_set",
    [
        ("retro.examples.snake", ["@", "*", ">", "<", "^", "v"]),
        ("retro.examples.beast", ["*", "H", "█"]),
        ("retro.examples.nav", ["^", "O"]),
        # A set missing the snake's body: '*' cells must read as empty.
        ("retro.examples.snake", ["v", "^", "<", ">", "@"]),
    ],
)
def test_codes_match_the_reference_cell_by_cell(spec, character_set):
    random.seed(1)
    rng = np.random.default_rng(1)
    source = load_game(spec)
    environment = Environment(source, source.description["actions"], "score")
    observer = Observer(character_set, environment_board_size(environment))
    checked_turns = 0
    for _ in range(3):
        environment.reset()
        observer.start_episode(environment.game)
        while not environment.done and environment.turn < 60:
            board_codes, state_values = observer.encode(environment.game, environment.drawn_cells)
            assert board_codes.dtype == np.uint8
            width, height = environment.game.board_size
            assert board_codes.shape == (height, width)
            np.testing.assert_array_equal(
                board_codes, reference_codes(environment.board_characters, character_set)
            )
            assert state_values.dtype == np.float32 and state_values.shape == (0,)
            environment.step(int(rng.integers(environment.num_actions)))
            checked_turns += 1
    assert checked_turns > 20


def environment_board_size(environment):
    environment.reset()
    return environment.game.board_size


def test_a_grown_snake_has_body_codes():
    random.seed(0)
    source = load_game("retro.examples.snake")
    environment = Environment(source, source.description["actions"], "score")
    environment.reset()
    game = environment.game
    head = game.get_agent_by_name("Snake head")
    head.position, head.direction, head.character = (5, 5), head.RIGHT, ">"
    game.get_agent_by_name("Apple").position = (6, 5)
    environment.step(4)  # eats the apple and starts growing
    environment.step(4)
    character_set = ["@", "*", ">", "<", "^", "v"]
    observer = Observer(character_set, game.board_size)
    observer.start_episode(game)
    board_codes, _ = observer.encode(game, environment.drawn_cells)
    assert (board_codes == 2).sum() == 1  # one body segment
    assert board_codes[5, 7] == 3  # the head, '>'
    np.testing.assert_array_equal(board_codes, reference_codes(environment.board_characters, character_set))


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_random_boards_with_any_characters_match_the_reference(data):
    alphabet = st.sampled_from([" ", "@", "*", "é", "█", "中", "🐍", "x"])
    width = data.draw(st.integers(1, 9))
    height = data.draw(st.integers(1, 7))
    board = data.draw(st.lists(st.lists(alphabet, min_size=width, max_size=width),
                               min_size=height, max_size=height))
    character_set = data.draw(st.lists(st.sampled_from(["@", "*", "é", "█", "中", "🐍"]), unique=True))
    observer = Observer(character_set, (width, height))
    board_codes, _ = observer.encode(fake_game(), drawn_cells_of(board))
    np.testing.assert_array_equal(board_codes, reference_codes(board, character_set))


@settings(max_examples=80, deadline=None)
@given(data=st.data())
def test_random_egocentric_windows_match_the_reference(data):
    alphabet = st.sampled_from([" ", "a", "b", "█"])
    width = data.draw(st.integers(1, 8))
    height = data.draw(st.integers(1, 8))
    board = data.draw(st.lists(st.lists(alphabet, min_size=width, max_size=width),
                               min_size=height, max_size=height))
    center = (data.draw(st.integers(0, width - 1)), data.draw(st.integers(0, height - 1)))
    radius = data.draw(st.integers(1, 4))
    character_set = ["a", "b", "█"]
    observer = Observer(character_set, (width, height), egocentric=True,
                        egocentric_player="hero", egocentric_radius=radius)
    game = fake_game(player_position=center)
    observer.start_episode(game)
    board_codes, _ = observer.encode(game, drawn_cells_of(board))
    np.testing.assert_array_equal(board_codes, reference_window(board, character_set, center, radius))


def test_characters_above_the_largest_known_one_read_as_empty():
    # '█' is U+2588; every character after it, up to far beyond, is unknown.
    unknown = [chr(code_point) for code_point in range(0x2589, 0x2589 + 4000)] + ["🐍", "\U0010ffff"]
    observer = Observer(["@", "█"], (len(unknown), 1))
    board_codes, _ = observer.encode(fake_game(), drawn_cells_of([unknown]))
    assert not board_codes.any()


def test_a_cell_holding_more_than_one_character_is_an_error():
    observer = Observer(["@"], (2, 2))
    with pytest.raises(ObservationError, match="exactly one character"):
        observer.encode(fake_game(), drawn_cells_of([["@", "ab"], [" ", " "]]))


# ---------------------------------------------------------------- egocentric windows on a real game


def walker_at(environment, moves):
    environment.reset()
    for action in moves:
        environment.step(action)
    return environment


@pytest.mark.parametrize(
    "moves, position",
    [
        ([LEFT, LEFT, UP, UP], (0, 0)),          # top-left corner
        ([RIGHT, RIGHT, RIGHT, UP, UP], (5, 0)),  # top-right corner, on a wall
        ([LEFT, LEFT, DOWN], (0, 3)),            # bottom-left corner
        ([RIGHT, RIGHT, RIGHT, DOWN], (5, 3)),   # bottom-right corner
        ([UP, UP], (2, 0)),                      # top edge
        ([DOWN], (2, 3)),                        # bottom edge
        ([LEFT, LEFT], (0, 2)),                  # left edge
        ([RIGHT, RIGHT, RIGHT, UP], (5, 1)),     # right edge
        ([], (2, 2)),                            # inside
    ],
)
@pytest.mark.parametrize("radius", [1, 2, 3])
def test_egocentric_windows_at_corners_and_edges(moves, position, radius):
    character_set = ["@", "█"]
    environment = walker_at(Environment(load_game(str(GAMES / "walker.py")), ARROWS, "score"), moves)
    assert environment.game.get_agent_by_name("walker").position == position
    observer = Observer(character_set, (6, 4), egocentric=True, egocentric_player="walker",
                        egocentric_radius=radius)
    observer.start_episode(environment.game)
    window, _ = observer.encode(environment.game, environment.drawn_cells)
    side = 2 * radius + 1
    assert window.shape == (side, side) and window.dtype == np.uint8
    np.testing.assert_array_equal(
        window, reference_window(environment.board_characters, character_set, position, radius)
    )
    assert window[radius, radius] == 1  # the walker itself, at the centre
    edge_code = 3
    x, y = position
    for row in range(side):
        for column in range(side):
            on_board = 0 <= x - radius + column < 6 and 0 <= y - radius + row < 4
            assert (window[row, column] == edge_code) == (not on_board)


def test_the_window_follows_the_player_and_is_a_copy():
    environment = walker_at(Environment(load_game(str(GAMES / "walker.py")), ARROWS, "score"), [])
    observer = Observer(["@", "█"], (6, 4), egocentric=True, egocentric_player="walker",
                        egocentric_radius=1)
    observer.start_episode(environment.game)
    first, _ = observer.encode(environment.game, environment.drawn_cells)
    kept = first.copy()
    environment.step(RIGHT)
    environment.step(RIGHT)
    environment.step(UP)  # now at (4, 1): the wall at (5, 0) and (5, 1) is to the right
    second, _ = observer.encode(environment.game, environment.drawn_cells)
    np.testing.assert_array_equal(first, kept)
    np.testing.assert_array_equal(second, [[0, 0, 2], [0, 1, 2], [0, 0, 0]])


def test_snake_window_shows_the_wall_as_edge():
    random.seed(0)
    source = load_game("retro.examples.snake")
    environment = Environment(source, source.description["actions"], "score")
    environment.reset()
    head = environment.game.get_agent_by_name("Snake head")
    observer = Observer(source.description["character_set"], (32, 16), egocentric=True,
                        egocentric_player="Snake head", egocentric_radius=2,
                        observe_state=["apple_dx", "apple_dy"])
    observer.start_episode(environment.game)
    while not environment.done:
        window, state_values = observer.encode(environment.game, environment.drawn_cells)
        np.testing.assert_array_equal(
            window,
            reference_window(environment.board_characters, source.description["character_set"],
                             head.position, 2),
        )
        assert window[2, 2] in (3, 4, 5, 6)  # a head character
        np.testing.assert_allclose(
            state_values,
            [environment.game.state["apple_dx"], environment.game.state["apple_dy"]],
            rtol=1e-6,
        )
        environment.step(0)  # keep going right until the snake hits the wall
    assert (window == 7).any()


def test_a_player_that_leaves_the_game_keeps_the_window_where_it_was():
    board = [list("ab  "), list("  a "), list("    ")]
    game = fake_game(player_position=(2, 1))
    observer = Observer(["a", "b"], (4, 3), egocentric=True, egocentric_player="hero",
                        egocentric_radius=1)
    observer.start_episode(game)
    before, _ = observer.encode(game, drawn_cells_of(board))
    del game.agents_by_name["hero"]
    board[1][2] = " "
    after, _ = observer.encode(game, drawn_cells_of(board))
    np.testing.assert_array_equal(before, [[2, 0, 0], [0, 1, 0], [0, 0, 0]])
    np.testing.assert_array_equal(after, [[2, 0, 0], [0, 0, 0], [0, 0, 0]])


def test_a_missing_player_names_the_agents_that_exist():
    source = load_game("retro.examples.beast")
    environment = Environment(source, source.description["actions"], "score")
    random.seed(0)
    environment.reset()
    observer = Observer(["*", "H", "█"], (40, 20), egocentric=True, egocentric_player="Player")
    with pytest.raises(ObservationError) as caught:
        observer.start_episode(environment.game)
    message = str(caught.value)
    assert "'Player'" in message and "'player'" in message and "egocentric_player" in message
    assert "Traceback" not in message


def test_no_board():
    environment = walker_at(Environment(load_game(str(GAMES / "walker.py")), ARROWS, "score"), [RIGHT])
    observer = Observer(["@"], (6, 4), board=False, observe_state=["score"])
    observer.start_episode(environment.game)
    board_codes, state_values = observer.encode(environment.game, environment.drawn_cells)
    assert board_codes.shape == (0, 0) and board_codes.dtype == np.uint8
    np.testing.assert_array_equal(state_values, [2.0])
    assert observer.layout.board_shape is None
    assert observer.layout.channels == ()


# ---------------------------------------------------------------- observed state


def observed_state_environment():
    return Environment(load_game(str(GAMES / "observed_state.py")), ["KEY_LEFT"], "score")


def test_numbers_bools_and_lists_are_appended_in_order():
    environment = observed_state_environment()
    environment.reset()
    observer = Observer(["t"], (3, 3), observe_state=["vec", "speed", "alive"])
    observer.start_episode(environment.game)
    assert observer.layout.state_keys == (("vec", 3), ("speed", 1), ("alive", 1))
    assert observer.layout.state_size == 5
    _, state_values = observer.encode(environment.game, environment.drawn_cells)
    assert state_values.dtype == np.float32
    np.testing.assert_array_equal(state_values, [0, 0, 0, 0.5, 1])
    environment.step(0)
    environment.step(0)
    _, state_values = observer.encode(environment.game, environment.drawn_cells)
    np.testing.assert_array_equal(state_values, [2, 4, 6, 0.5, 1])


def test_a_key_missing_at_the_start_of_an_episode():
    environment = observed_state_environment()
    environment.reset()
    observer = Observer(["t"], (3, 3), observe_state=["speed", "late"])
    with pytest.raises(ObservationError) as caught:
        observer.start_episode(environment.game)
    message = str(caught.value)
    assert "'late'" in message and "missing" in message and "start of the episode" in message
    assert "'speed'" in message and "'vec'" in message  # the keys the state does have
    assert "create_game()" in message


def test_a_key_that_is_not_numeric():
    environment = observed_state_environment()
    environment.reset()
    observer = Observer(["t"], (3, 3), observe_state=["name"])
    with pytest.raises(ObservationError) as caught:
        observer.start_episode(environment.game)
    assert "'name'" in str(caught.value) and "'rocket'" in str(caught.value)
    assert "not a number" in str(caught.value)


def test_a_length_that_changes_between_episodes():
    environment = observed_state_environment()
    observer = Observer(["t"], (3, 3), observe_state=["history"])
    environment.reset()
    observer.start_episode(environment.game)
    first_size = observer.layout.state_size
    environment.reset()
    with pytest.raises(ObservationError) as caught:
        observer.start_episode(environment.game)
    message = str(caught.value)
    assert "'history'" in message
    assert f"has {first_size + 1} values at the start of the episode" in message
    assert f"the first episode had {first_size}" in message


def test_a_declared_length_that_does_not_match():
    environment = observed_state_environment()
    environment.reset()
    observer = Observer(["t"], (3, 3), observe_state=["vec"], observe_state_sizes={"vec": 4})
    assert observer.layout.state_size == 4  # known before any game
    with pytest.raises(ObservationError) as caught:
        observer.start_episode(environment.game)
    assert "'vec' has 3 values" in str(caught.value)
    assert "observe_state_sizes declares 4" in str(caught.value)


def test_a_length_that_changes_during_an_episode():
    environment = observed_state_environment()
    environment.reset()
    environment.step(0)
    observer = Observer(["t"], (3, 3), observe_state=["trail"])
    observer.start_episode(environment.game)
    environment.step(0)
    with pytest.raises(ObservationError) as caught:
        observer.encode(environment.game, environment.drawn_cells)
    assert "'trail' has 2 values on turn 2" in str(caught.value)


def test_a_key_that_disappears_during_an_episode():
    environment = walker_at(Environment(load_game(str(GAMES / "walker.py")), ARROWS, "score"), [])
    observer = Observer(["@"], (6, 4), observe_state=["score"])
    observer.start_episode(environment.game)
    del environment.game.state["score"]
    with pytest.raises(ObservationError, match="'score' is missing from game.state on turn 0"):
        observer.encode(environment.game, environment.drawn_cells)


def test_layout_needs_the_first_episode_for_undeclared_sizes():
    observer = Observer(["t"], (3, 3), observe_state=["vec"])
    with pytest.raises(RuntimeError, match="start_episode"):
        observer.layout


# ---------------------------------------------------------------- the layout


def test_layout_of_the_snake_preprocessing():
    observer = Observer(["@", "*", ">", "<", "^", "v"], (32, 16), observe_state=["apple_dx", "apple_dy"],
                        observe_state_sizes={"apple_dx": 1, "apple_dy": 1}, egocentric=True,
                        egocentric_player="Snake head", egocentric_radius=2)
    layout = observer.layout
    assert layout == ObservationLayout((5, 5), ("@", "*", ">", "<", "^", "v", "edge"),
                                       (("apple_dx", 1), ("apple_dy", 1)))
    assert layout.num_codes == 7
    assert layout.state_size == 2
    assert layout.describe() == [
        "board: 5 x 5 cells (height x width)",
        "channels: 7 (code 0 = empty): 1 '@', 2 '*', 3 '>', 4 '<', 5 '^', 6 'v', "
        "7 edge (beyond the board's edge)",
        "state: apple_dx (1 value)",
        "state: apple_dy (1 value)",
    ]


def test_layout_of_a_full_board_is_height_by_width():
    layout = Observer(["^", "O"], (25, 10)).layout
    assert layout.board_shape == (10, 25)
    assert layout.channels == ("^", "O")
    assert layout.describe() == [
        "board: 10 x 25 cells (height x width)",
        "channels: 2 (code 0 = empty): 1 '^', 2 'O'",
        "state: none observed",
    ]


def test_layout_without_a_board():
    layout = Observer([], (3, 3), board=False, observe_state=["vec"], observe_state_sizes={"vec": 3}).layout
    assert layout.num_codes == 0
    assert layout.describe() == ["board: not observed", "state: vec (3 values)"]
