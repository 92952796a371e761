"""A trained agent, loaded from a checkpoint, ready to play: what ``play`` and ``evaluate`` use.

The greedy policy picks, in every state, the action with the highest
Q-value: ``a = argmax_a Q(s, a)``. No exploration, no learning: this is what
the agent has learned.
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from retro_gamer.run import checkpoint as checkpoints
from retro_gamer.run.config_file import read_config
from retro_gamer.run.settings import incompatibility_message, incompatible_changes
from retro_gamer.errors import CheckpointError
from retro_gamer.game.loading import GameSource, load_game
from retro_gamer.nn.network import QNetwork
from retro_gamer.game.observation import Observer, make_observer


@dataclass
class TrainedPolicy:
    checkpoint_name: str      # "ep_0100"
    episode: int
    source: GameSource
    actions: list             # the game's keys; the no-op is the extra last action
    reward_key: str
    observer: Observer
    network: QNetwork
    max_turns: int

    def q_values(self, board_codes, state_values):
        """Q(s, a) for every action, as a float32 vector."""
        return self.network.predict(board_codes[np.newaxis], state_values[np.newaxis])[0]

    def greedy_action(self, board_codes, state_values):
        """The best action; ties go to the first (so play and evaluate are repeatable)."""
        return int(np.argmax(self.q_values(board_codes, state_values)))


def load_policy(run_dir, checkpoint=None):
    """Load ``checkpoint`` (a name like ``ep_0100``; default the latest) of a run."""
    settings = read_config(run_dir)
    path = checkpoints.resolve_checkpoint(run_dir, checkpoint)
    arrays, meta = checkpoints.load_checkpoint(path)
    changes = incompatible_changes(meta.get("shape", {}), settings)
    if changes:
        raise CheckpointError(incompatibility_message(path.name, changes, run_dir, action="load"))
    try:
        state_sizes = {key: int(size) for key, size in meta.get("state_keys", [])}
        observer = make_observer(settings, state_sizes)
        layout = observer.layout
        network = QNetwork(
            board_shape=layout.board_shape, num_codes=layout.num_codes, state_size=layout.state_size,
            num_actions=len(settings.actions) + 1, hidden_sizes=settings.hidden_sizes,
            conv_channels=settings.conv_channels if settings.spatial else None,
            rng=np.random.default_rng(0))
        network.load_state_arrays(arrays, prefix="online/")
        episode = int(meta["episode"])
    except (CheckpointError, KeyError, TypeError, ValueError) as problem:
        raise checkpoints.unusable(path, problem) from None
    return TrainedPolicy(
        checkpoint_name=path.stem, episode=episode, source=load_game(settings.module, settings.factory),
        actions=list(settings.actions), reward_key=settings.reward, observer=observer,
        network=network, max_turns=settings.max_turns_per_episode)


def list_checkpoints(run_dir):
    """The checkpoint files of a run, oldest first."""
    return checkpoints.list_checkpoints(Path(run_dir))
