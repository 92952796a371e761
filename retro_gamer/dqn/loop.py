"""The DQN training loop: act, step, remember, learn, sync the target network.

Read ``Trainer.play_episode`` first: it is DQN as the papers describe it
(Mnih et al. 2015), and as CleanRL's ``dqn.py`` writes it. For every turn of
an episode:

1. act: look at the game (``observer.encode``) and choose an action, at
   random during the first ``exploration_turns`` turns, then epsilon-greedy
   from the online network (``agent.act``);
2. step: play it (``environment.step``) and get the reward, the change in
   the game's reward key, and whether the game ended;
3. remember: store the transition in the replay memory, through a window
   that sums the next ``n_step`` rewards (``NStepWindow``);
4. learn: every ``train_every`` turns, once the memory holds a batch, learn
   from a batch of remembered transitions (``agent.learn``) and give them
   their new priorities;
5. sync the target: every ``target_update_freq`` turns, copy the online
   network into the target network (``agent.sync_target``).

``run_episodes`` plays one episode after another. After each one the two
schedules decay (``decay_schedules``)::

    epsilon       <- max(epsilon_min, epsilon * epsilon_decay)
    learning_rate <- learning_rate * learning_rate_decay

so after N episodes ``epsilon = max(epsilon_min, epsilon_start * epsilon_decay ** N)``,
however long the episodes were. The learning rate has one home: the
optimizer's ``learning_rate``, which Adam reads at every step; it starts at
the setting ``learning_rate``. Prioritized replay's importance-sampling
exponent grows with the share of training done (Schaul et al. 2016)::

    beta = 0.4 + (1 - 0.4) * min(1, episode / training_episodes)

Every ``CHECKPOINT_EVERY`` episodes (and at the last one, and when a stop is
requested) ``run/checkpoint.py`` saves a checkpoint and adds a line to
training.log. Everything that decides what happens next is in the
checkpoint, the random generators included, so a run that is stopped and
resumed ends with the same weights as one that never stopped. Resuming,
Ctrl-C and the ``train`` command are in ``run/session.py``.
"""

import random
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from retro_gamer.dqn.agent import DQNAgent
from retro_gamer.dqn.nstep import NStepWindow
from retro_gamer.dqn.replay import make_replay
from retro_gamer.errors import GameCrashed, TrainingError
from retro_gamer.game.environment import Environment
from retro_gamer.game.loading import load_game
from retro_gamer.game.observation import make_observer
from retro_gamer.run import checkpoint as checkpoints

CHECKPOINT_EVERY = 100
BETA_START = 0.4  # importance-sampling exponent, annealed to 1.0 over the run (Schaul et al. 2016)


@dataclass
class Progress:
    """The counters and the exploration schedule, which continue from one session to the next.

    (The learning rate, the other schedule, is ``agent.optimizer.learning_rate``.)
    """

    episode: int = 0              # episodes finished
    total_turns: int = 0          # turns played, in all episodes
    epsilon: float = 1.0
    training_seconds: float = 0.0
    largest_reward: float = 0.0   # the largest |reward| seen, for reward_scale = 0
    unfinished_block: dict = None  # a block a stop cut short, carried into the next session
    log_lines: list = field(default_factory=list)


@dataclass
class Block:
    """The episodes of one training.log line: 1-100, 101-200, ...

    A session that stops in the middle of a block (Ctrl-C, or a
    ``training_episodes`` that is not a multiple of 100) saves the block so
    far in its checkpoint (``saved``), and the next session carries on with
    it (``carried_on``): the block's line then covers all 100 episodes, the
    same line an uninterrupted run writes.
    """

    first_episode: int
    started: float
    rewards: list = field(default_factory=list)
    turns: list = field(default_factory=list)
    loss_sum: float = 0.0
    loss_count: int = 0
    earlier_seconds: float = 0.0   # time spent on this block in earlier sessions
    last_loss: float = float("nan")

    def add_loss(self, loss):
        self.loss_sum += loss
        self.loss_count += 1
        self.last_loss = loss

    def saved(self):
        """The block so far as a JSON-ready dict, for the checkpoint of a session that stops."""
        return {"first_episode": self.first_episode, "rewards": [float(reward) for reward in self.rewards],
                "turns": [int(turns) for turns in self.turns], "loss_sum": self.loss_sum,
                "loss_count": self.loss_count,
                "seconds": self.earlier_seconds + time.perf_counter() - self.started}

    @classmethod
    def carried_on(cls, saved):
        """The block a checkpoint saved, continued from now."""
        return cls(first_episode=saved["first_episode"], started=time.perf_counter(),
                   rewards=list(saved["rewards"]), turns=list(saved["turns"]),
                   loss_sum=saved["loss_sum"], loss_count=saved["loss_count"],
                   earlier_seconds=saved["seconds"])


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
        self.progress = Progress(epsilon=settings.epsilon)

    # --- episode after episode --------------------------------------------------------

    def run_episodes(self, last_episode, stop_requested=lambda: False, progress_bar=None):
        """Play and learn until ``last_episode``, or until ``stop_requested()`` says to stop."""
        progress_bar = progress_bar or NoProgressBar()
        progress = self.progress
        carried = progress.unfinished_block
        if carried and carried["first_episode"] + len(carried["rewards"]) == progress.episode + 1:
            block = Block.carried_on(carried)
        else:
            block = Block(first_episode=progress.episode + 1, started=time.perf_counter())
        while progress.episode < last_episode:
            episode = progress.episode + 1
            episode_reward, turns = self.play_episode(episode, block)
            progress.episode = episode
            self.decay_schedules()
            block.rewards.append(episode_reward)
            block.turns.append(turns)
            progress_bar.update(1)
            progress_bar.set_postfix_str(
                f"reward={episode_reward:.1f}, eps={progress.epsilon:.3f}, loss={block.last_loss:.4g}",
                refresh=False)
            if episode % CHECKPOINT_EVERY == 0 or episode == last_episode or stop_requested():
                block_is_finished = episode % CHECKPOINT_EVERY == 0
                progress.unfinished_block = None if block_is_finished else block.saved()
                checkpoints.save_checkpoint(self, block, progress_bar)
                block = Block(first_episode=episode + 1, started=time.perf_counter())
                if stop_requested():
                    return

    def decay_schedules(self):
        """After every episode: epsilon and the learning rate shrink by their factors."""
        settings, progress, optimizer = self.settings, self.progress, self.agent.optimizer
        progress.epsilon = max(settings.epsilon_min, progress.epsilon * settings.epsilon_decay)
        optimizer.learning_rate *= settings.learning_rate_decay

    # --- one episode: DQN, turn by turn -----------------------------------------------

    def play_episode(self, episode, block):
        """One episode, learning as it goes; returns its total reward and its number of turns."""
        settings, progress, agent = self.settings, self.progress, self.agent
        environment, observer = self.environment, self.observer
        window = NStepWindow(settings.n_step, settings.gamma, self.memory)
        self._reset(episode)
        board, state_values = observer.encode(environment.game, environment.drawn_cells)
        episode_reward, game_over, turn = 0.0, False, 0
        for turn in range(1, settings.max_turns_per_episode + 1):
            # 1. act
            if progress.total_turns < settings.exploration_turns:
                action = int(self.rng.integers(environment.num_actions))
            else:
                action = agent.act(board, state_values, progress.epsilon)
            # 2. step
            reward, game_over = self._step(action, episode)
            next_board, next_state_values = observer.encode(environment.game, environment.drawn_cells)
            # 3. remember
            window.add(board, state_values, action, reward, next_board, next_state_values, game_over)
            progress.total_turns += 1
            progress.largest_reward = max(progress.largest_reward, abs(reward))
            episode_reward += reward
            # 4. learn
            if self._time_to_learn():
                block.add_loss(self._learn(episode))
            # 5. sync the target network
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
        """One learning step on a batch from the memory; returns its loss."""
        settings = self.settings
        fraction_done = min(1.0, episode / settings.training_episodes)
        beta = BETA_START + (1.0 - BETA_START) * fraction_done
        batch = self.memory.sample(settings.batch_size, beta)
        loss, td_errors = self.agent.learn(batch, settings.gamma, self.reward_scale())
        if not np.isfinite(loss):
            raise self._blown_up(loss, episode)
        self.memory.update_priorities(batch.indices, td_errors)
        return loss

    def _blown_up(self, loss, episode):
        """The error for a loss that is no longer a number; no checkpoint is saved with it."""
        latest = checkpoints.list_checkpoints(self.run_dir)
        resume_note = f"resumes from {latest[-1].name}" if latest else "starts fresh"
        return TrainingError(
            f"the loss became {loss} in episode {episode}: the network's estimates blew up. "
            f"The learning rate ({self.agent.optimizer.learning_rate:g}) is probably too high: lower "
            f"learning_rate in {self.run_dir / 'config.toml'} (try a tenth of it) and run "
            f"'retro-gamer train {self.run_dir}' again ({resume_note}). No checkpoint was "
            "written with the broken weights.")

    def reward_scale(self):
        """Rewards are multiplied by this before learning (keeps Q-values near 1).

        ``reward_scale = 0`` means: divide by the largest reward change seen so far.
        """
        if self.settings.reward_scale > 0:
            return self.settings.reward_scale
        return 1.0 / self.progress.largest_reward if self.progress.largest_reward > 0 else 1.0


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
