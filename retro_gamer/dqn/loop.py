"""The training loop: play episodes, remember them, learn from them, save progress.

Read ``run_episodes`` first: it is DQN as the papers describe it. For every
turn of every episode:

1. look at the game (``observer.encode``);
2. choose an action: random during the first ``exploration_turns`` turns,
   then epsilon-greedy from the online network;
3. play it (``environment.step``) and get the reward, the change in the
   game's reward key;
4. remember the transition in the replay memory (through an n-step window);
5. every ``train_every`` turns, learn from a random batch of remembered
   transitions (``agent.learn``), and update their priorities;
6. every ``target_update_freq`` turns, copy the online network into the
   target network.

After each episode epsilon and the learning rate decay; every 100 episodes
(and at the last one, and when you press Ctrl-C) a checkpoint is saved and a
line is added to training.log. Everything that decides what happens next is
in the checkpoint, the random generators included, so a run that is stopped
and resumed ends with the same weights as one that never stopped.
"""

import os
import random
import signal
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np

from retro_gamer.run import checkpoint as checkpoints
from retro_gamer.run.atomic import remove_leftovers
from retro_gamer.run.config_file import read_config
from retro_gamer.run.lock import holding_run_lock
from retro_gamer.run.settings import incompatibility_message, incompatible_changes, shape_snapshot
from retro_gamer.dqn.agent import DQNAgent
from retro_gamer.game.environment import Environment
from retro_gamer.errors import CheckpointError, GameCrashed, TrainingError
from retro_gamer.game.loading import load_game
from retro_gamer.nn.serialize import load_npz, save_npz
from retro_gamer.dqn.nstep import NStepWindow
from retro_gamer.game.observation import make_observer
from retro_gamer.dqn.replay import make_replay
from retro_gamer.run.training_log import (LOG_FILE_NAME, LogEntry, checkpoint_name, format_checkpoint_line,
                                      format_resume_line, parse_checkpoint_line, write_log_atomically)

CHECKPOINT_EVERY = 100
BETA_START = 0.4  # importance-sampling exponent, annealed to 1.0 over the run (Schaul et al. 2016)


@dataclass
class Progress:
    """The counters and schedules that continue from one session to the next."""

    episode: int = 0              # episodes finished
    total_turns: int = 0          # turns played, in all episodes
    epsilon: float = 1.0
    learning_rate: float = 0.0001
    training_seconds: float = 0.0
    largest_reward: float = 0.0   # the largest |reward| seen, for reward_scale = 0
    log_lines: list = field(default_factory=list)


@dataclass
class Block:
    """What happened since the last checkpoint, for its training.log line."""

    first_episode: int
    started: float
    rewards: list = field(default_factory=list)
    turns: list = field(default_factory=list)
    loss_sum: float = 0.0
    loss_count: int = 0
    last_loss: float = float("nan")

    def add_loss(self, loss):
        self.loss_sum += loss
        self.loss_count += 1
        self.last_loss = loss


class Trainer:
    """Everything one training session needs, built from a run's config.toml."""

    def __init__(self, run_dir, settings):
        self.run_dir = Path(run_dir)
        self.settings = settings
        self.seed = settings.seed
        random.seed(self.seed)                       # retro games draw from Python's random
        self.rng = np.random.default_rng(self.seed)  # the agent's exploration and initial weights
        self.source = load_game(settings.module, settings.factory)
        self.environment = Environment(self.source.factory, settings.actions, settings.reward)
        self.observer = make_observer(settings)
        self.environment.reset()
        self.observer.start_episode(self.environment.game)  # fixes the observation's layout
        self.layout = self.observer.layout
        self.agent = DQNAgent(
            self.layout, self.environment.num_actions, settings.hidden_sizes,
            settings.conv_channels if settings.spatial else None, settings.learning_rate,
            settings.max_grad_norm, settings.double_dqn, self.rng)
        self.memory = make_replay(settings.prioritize_experiences, settings.memory_capacity,
                                  self.layout.board_shape or (0, 0), self.layout.state_size, self.seed + 1)
        self.progress = Progress(epsilon=settings.epsilon, learning_rate=settings.learning_rate)

    # --- the loop --------------------------------------------------------------

    def run_episodes(self, last_episode, stop_requested=lambda: False, progress_bar=None):
        """Play and learn until ``last_episode``, or until ``stop_requested()`` says to stop."""
        progress_bar = progress_bar or NoProgressBar()
        settings, progress = self.settings, self.progress
        block = Block(first_episode=progress.episode + 1, started=time.perf_counter())
        while progress.episode < last_episode:
            episode = progress.episode + 1
            episode_reward, turns = self.play_episode(episode, block)
            progress.episode = episode
            progress.epsilon = max(settings.epsilon_min, progress.epsilon * settings.epsilon_decay)
            progress.learning_rate *= settings.learning_rate_decay
            self.agent.optimizer.learning_rate = progress.learning_rate
            block.rewards.append(episode_reward)
            block.turns.append(turns)
            progress_bar.update(1)
            progress_bar.set_postfix_str(
                f"reward={episode_reward:.1f}, eps={progress.epsilon:.3f}, loss={block.last_loss:.4g}",
                refresh=False)
            if episode % CHECKPOINT_EVERY == 0 or episode == last_episode or stop_requested():
                self.save_checkpoint(block, progress_bar)
                block = Block(first_episode=episode + 1, started=time.perf_counter())
                if stop_requested():
                    return

    def play_episode(self, episode, block):
        """One episode, learning as it goes; returns its total reward and its number of turns."""
        settings, progress, agent = self.settings, self.progress, self.agent
        environment, observer = self.environment, self.observer
        window = NStepWindow(settings.n_step, settings.gamma, self.memory)
        self._reset(episode)
        board, state_values = observer.encode(environment.game, environment.drawn_cells)
        episode_reward, game_over, turn = 0.0, False, 0
        for turn in range(1, settings.max_turns_per_episode + 1):
            if progress.total_turns < settings.exploration_turns:
                action = int(self.rng.integers(environment.num_actions))
            else:
                action = agent.act(board, state_values, progress.epsilon)
            reward, game_over = self._step(action, episode)
            next_board, next_state_values = observer.encode(environment.game, environment.drawn_cells)
            window.add(board, state_values, action, reward, next_board, next_state_values, game_over)
            progress.total_turns += 1
            progress.largest_reward = max(progress.largest_reward, abs(reward))
            episode_reward += reward
            if self._time_to_learn():
                block.add_loss(self._learn(episode))
            if progress.total_turns % settings.target_update_freq == 0:
                agent.sync_target()
            board, state_values = next_board, next_state_values
            if game_over:
                break
        if not game_over:
            window.end_episode(board, state_values)  # cut short: the last transitions bootstrap
        return episode_reward, turn

    def _reset(self, episode):
        try:
            self.environment.reset()
            self.observer.start_episode(self.environment.game)
        except GameCrashed as crash:
            raise _during_episode(crash, episode) from None

    def _step(self, action, episode):
        try:
            return self.environment.step(action)
        except GameCrashed as crash:
            raise _during_episode(crash, episode) from None

    def _time_to_learn(self):
        """Learning starts after the exploration turns, once a batch can be drawn."""
        turns = self.progress.total_turns
        return (turns >= self.settings.exploration_turns
                and len(self.memory) >= self.settings.batch_size
                and turns % self.settings.train_every == 0)

    def _learn(self, episode):
        settings = self.settings
        fraction_done = min(1.0, episode / settings.training_episodes)
        beta = BETA_START + (1.0 - BETA_START) * fraction_done
        batch = self.memory.sample(settings.batch_size, beta)
        loss, td_errors = self.agent.learn(batch, settings.gamma, self.reward_scale())
        if not np.isfinite(loss):
            latest = checkpoints.list_checkpoints(self.run_dir)
            resume_note = f"resumes from {latest[-1].name}" if latest else "starts fresh"
            raise TrainingError(
                f"the loss became {loss} in episode {episode}: the network's estimates blew up. "
                f"The learning rate ({self.progress.learning_rate:g}) is probably too high: lower "
                f"learning_rate in {self.run_dir / 'config.toml'} (try a tenth of it) and run "
                f"'retro-gamer train {self.run_dir}' again ({resume_note}). No checkpoint was "
                "written with the broken weights.")
        self.memory.update_priorities(batch.indices, td_errors)
        return loss

    def reward_scale(self):
        """Rewards are multiplied by this before learning (keeps Q-values near 1).

        ``reward_scale = 0`` means: divide by the largest reward change seen so far.
        """
        if self.settings.reward_scale > 0:
            return self.settings.reward_scale
        return 1.0 / self.progress.largest_reward if self.progress.largest_reward > 0 else 1.0

    # --- checkpoints -------------------------------------------------------------

    def save_checkpoint(self, block, progress_bar):
        """Replay memory, then the checkpoint, then the log line; each file atomically."""
        progress = self.progress
        elapsed = time.perf_counter() - block.started
        progress.training_seconds += elapsed
        name = checkpoint_name(progress.episode)
        line = format_checkpoint_line(LogEntry(
            name=name, first_episode=block.first_episode, last_episode=progress.episode,
            avg_reward=float(np.mean(block.rewards)), avg_steps=float(np.mean(block.turns)),
            epsilon=progress.epsilon,
            avg_loss=block.loss_sum / block.loss_count if block.loss_count else float("nan"),
            time_seconds=elapsed, total_seconds=progress.training_seconds))
        for network in (self.agent.online, self.agent.target):
            if not all(np.isfinite(parameter).all() for parameter in network.parameters()):
                raise TrainingError(
                    f"the network's weights are no longer finite numbers at episode {progress.episode}; "
                    f"lower learning_rate in {self.run_dir / 'config.toml'} and train again.")
        folder = checkpoints.checkpoint_dir(self.run_dir)
        replay_arrays = self.memory.state_arrays()
        replay_arrays["episode"] = np.array(progress.episode)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            save_npz(folder / checkpoints.REPLAY_FILE, replay_arrays)
            checkpoints.save_checkpoint(folder / checkpoints.checkpoint_file_name(progress.episode),
                                        self._checkpoint_arrays(), self._checkpoint_meta(line))
        except (OSError, CheckpointError) as error:
            saved = checkpoints.list_checkpoints(self.run_dir)
            intact = f"{saved[-1].name} is intact" if saved else "no earlier checkpoint exists"
            raise TrainingError(
                f"could not save checkpoint {name} at episode {progress.episode}: {error} "
                f"({intact}; free some disk space or make {self.run_dir} writable, then train again)"
            ) from None
        progress.log_lines.append(line)
        _write_log(self.run_dir, progress.log_lines, f"checkpoint {name} was saved, but ")
        progress_bar.write(line)

    def _checkpoint_arrays(self):
        arrays = {}
        arrays.update(self.agent.online.state_arrays(prefix="online/"))
        arrays.update(self.agent.target.state_arrays(prefix="target/"))
        arrays.update(self.agent.optimizer.state_arrays(prefix="adam/"))
        return arrays

    def _checkpoint_meta(self, log_line):
        progress = self.progress
        python_version, python_state, python_gauss = random.getstate()
        return {
            "episode": progress.episode,
            "total_turns": progress.total_turns,
            "epsilon": progress.epsilon,
            "learning_rate": progress.learning_rate,
            "training_seconds": progress.training_seconds,
            "largest_reward": progress.largest_reward,
            "settings_learning_rate": self.settings.learning_rate,
            "settings_epsilon": self.settings.epsilon,
            "shape": shape_snapshot(self.settings),
            "state_keys": [list(item) for item in self.layout.state_keys],
            "numpy_rng": self.rng.bit_generator.state,
            "python_random": [python_version, list(python_state), python_gauss],
            "log_line": log_line,
        }

    def resume_from(self, path):
        """Load a checkpoint into this trainer (after checking it still fits)."""
        arrays, meta = checkpoints.load_checkpoint(path)
        changes = incompatible_changes(meta.get("shape", {}), self.settings)
        if changes:
            raise CheckpointError(incompatibility_message(path.name, changes, _shown(self.run_dir)))
        saved_keys = [tuple(item) for item in meta.get("state_keys", [])]
        if saved_keys != [tuple(item) for item in self.layout.state_keys]:
            raise CheckpointError(
                f"Cannot resume from {path.name}: the observed state values changed shape "
                f"(was {saved_keys}, now {list(self.layout.state_keys)}). Run 'retro-gamer clean "
                f"{_shown(self.run_dir)}' to start fresh.")
        try:
            self._restore(arrays, meta)
        except (CheckpointError, KeyError, TypeError, ValueError) as problem:
            raise checkpoints.unusable(path, problem) from None
        return meta

    def _restore(self, arrays, meta):
        self.agent.online.load_state_arrays(arrays, prefix="online/")
        self.agent.target.load_state_arrays(arrays, prefix="target/")
        self.agent.optimizer.load_state_arrays(arrays, prefix="adam/")
        progress = self.progress
        progress.episode = int(meta["episode"])
        progress.total_turns = int(meta["total_turns"])
        progress.epsilon = float(meta["epsilon"])
        progress.learning_rate = float(meta["learning_rate"])
        progress.training_seconds = float(meta["training_seconds"])
        progress.largest_reward = float(meta["largest_reward"])
        self._apply_edited_schedules(meta)
        self.agent.optimizer.learning_rate = progress.learning_rate
        self.rng.bit_generator.state = meta["numpy_rng"]
        version, state, gauss = meta["python_random"]
        random.setstate((version, tuple(state), gauss))

    def _apply_edited_schedules(self, meta):
        """A learning_rate or epsilon edited in config.toml since the checkpoint starts from the new value."""
        settings, progress = self.settings, self.progress
        if settings.learning_rate != meta["settings_learning_rate"]:
            progress.learning_rate = settings.learning_rate
        if settings.epsilon != meta["settings_epsilon"]:
            progress.epsilon = settings.epsilon
        progress.epsilon = max(settings.epsilon_min, progress.epsilon)

    def resume_memory(self, episode):
        """Refill the replay memory saved beside the checkpoint, if it belongs to it."""
        path = checkpoints.checkpoint_dir(self.run_dir) / checkpoints.REPLAY_FILE
        if not path.exists():
            return "no replay memory was saved; it refills as the agent plays"
        try:
            arrays = load_npz(path)
            if int(arrays.pop("episode")) != episode:
                return "the saved replay memory belongs to another checkpoint; it refills as the agent plays"
            self.memory.load_state_arrays(arrays)
        except (CheckpointError, KeyError) as error:
            return f"the saved replay memory does not fit ({error}); it refills as the agent plays"
        return None


class NoProgressBar:
    """Stands in for tqdm's bar when nobody watches (tests, benchmarks)."""

    def update(self, count):
        pass

    def set_postfix_str(self, text, refresh=True):
        pass

    def write(self, text):
        pass


def _during_episode(crash, episode):
    return GameCrashed(f"{crash} (training episode {episode})", details=crash.details)


def _shown(run_dir):
    """A run folder as the user would type it, with a trailing slash."""
    return os.path.join(str(run_dir), "")


def _write_log(run_dir, lines, what_happened=""):
    try:
        write_log_atomically(Path(run_dir) / LOG_FILE_NAME, lines)
    except OSError as error:
        raise TrainingError(
            f"{what_happened}{Path(run_dir) / LOG_FILE_NAME} could not be written: {error}. "
            f"The checkpoints are untouched; make {run_dir} writable (or free disk space) and "
            "train again.") from None


def _log_lines_up_to(run_dir, meta):
    """training.log as it should be for a run whose latest checkpoint is ``meta``'s.

    Lines for episodes after the checkpoint (written just before a crash)
    are dropped; the checkpoint's own line is restored if the run stopped
    between saving the checkpoint and rewriting the log.
    """
    path = Path(run_dir) / LOG_FILE_NAME
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    kept = []
    for line in lines:
        entry = parse_checkpoint_line(line)
        if entry is not None and entry.last_episode > meta["episode"]:
            continue
        kept.append(line)
    logged = [parse_checkpoint_line(line) for line in kept]
    if not any(entry is not None and entry.last_episode == meta["episode"] for entry in logged):
        kept.append(meta["log_line"])
    return kept


class _StopRequest:
    """The first Ctrl-C asks training to stop after the current episode; the second stops at once."""

    def __init__(self):
        self.requested = False
        self.previous_handler = None

    def __call__(self):
        return self.requested

    def _handle(self, signal_number, frame):
        self.requested = True
        signal.signal(signal.SIGINT, signal.default_int_handler)
        print("\nStopping after this episode to save a checkpoint (Ctrl-C again to stop at once)...",
              file=sys.stderr)

    def __enter__(self):
        self.previous_handler = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *exc):
        signal.signal(signal.SIGINT, self.previous_handler)
        return False


@holding_run_lock("train")
def train(run_dir):
    """``retro-gamer train RUN_DIR``: train, resuming from the latest checkpoint."""
    from tqdm import tqdm

    settings = read_config(run_dir)
    shown = _shown(run_dir)
    for folder in (Path(run_dir), checkpoints.checkpoint_dir(run_dir)):
        remove_leftovers(folder)  # from a run that was killed while saving
    trainer = Trainer(run_dir, settings)
    existing = checkpoints.list_checkpoints(run_dir)
    if existing:
        latest = existing[-1]
        meta = trainer.resume_from(latest)
        log_lines = _log_lines_up_to(run_dir, meta)
        if trainer.progress.episode >= settings.training_episodes:
            _write_log(run_dir, log_lines)
            print(f"Training already complete ({trainer.progress.episode} episodes). To keep training,\n"
                  "increase training_episodes in config.toml.")
            return 0
        note = trainer.resume_memory(trainer.progress.episode)
        trainer.progress.log_lines = log_lines + [format_resume_line(latest.name, datetime.now())]
        _write_log(run_dir, trainer.progress.log_lines)
        print(f"Resuming from {latest.name} (episode {trainer.progress.episode}).", file=sys.stderr)
        if note:
            print(f"Note: {note}.", file=sys.stderr)
    else:
        trainer.progress.log_lines = ["Network architecture:"]
        trainer.progress.log_lines += ["  " + line for line in trainer.agent.online.describe()]
        trainer.progress.log_lines += ["Observation:"] + ["  " + line for line in trainer.layout.describe()]
        trainer.progress.log_lines += [""]
    bar = tqdm(total=settings.training_episodes, initial=trainer.progress.episode, unit="ep",
               dynamic_ncols=True, disable=None, file=sys.stderr)
    try:
        with _StopRequest() as stop_requested:
            trainer.run_episodes(settings.training_episodes, stop_requested, bar)
    except KeyboardInterrupt:
        bar.close()
        latest = checkpoints.list_checkpoints(run_dir)
        where = f"The latest checkpoint is {latest[-1].name}" if latest else "No checkpoint was saved yet"
        print(f"\nStopped. {where}; run 'retro-gamer train {shown}' to resume.", file=sys.stderr)
        return 130
    finally:
        bar.close()  # before any error message, so the bar's line is finished
    if stop_requested.requested:
        latest = checkpoints.list_checkpoints(run_dir)[-1]
        print(f"Stopped. Saved {latest.name}; run 'retro-gamer train {shown}' to resume.", file=sys.stderr)
        return 130
    print(f"Done. Checkpoints saved in {os.path.join(shown, checkpoints.CHECKPOINT_DIR, '')}")
    return 0

