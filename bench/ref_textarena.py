"""Reference workloads for the game-throughput figures, run under the bench venv's TextArena.

    bare GAMES               instant scripted random movers (a random legal column each turn)
    http URL GAMES IN_FLIGHT each turn one call to a model server through TextArena's own
                             OpenAIAgent; the server answers with a random legal column. GAMES
                             games, IN_FLIGHT at once in a thread pool, each game its own env and
                             agent (TextArena's loop is synchronous: threads are how it overlaps calls)

TextArena's loop is one turn at a time (reset / get_observation / step / close), and keeps no
record. Prints {"plies", "games", "seconds"}.
"""
import json
import random
import sys
import time
from concurrent.futures import ThreadPoolExecutor

GAME = "ConnectFour-v0"


def _base(env):
    while hasattr(env, "env"):
        env = env.env
    return env


def play(agent, seed: int) -> int:
    import textarena as ta
    env = ta.make(GAME)
    env.reset(num_players=2, seed=seed)
    plies, done = 0, False
    while not done:
        _, observation = env.get_observation()
        done, _ = env.step(agent(env, observation))
        plies += 1
    env.close()
    return plies


def bare(games: int) -> dict:
    rng = random.Random(0)

    def mover(env, observation):  # the legal columns, as the arena's scripted players get them
        board = _base(env).state.game_state["board"]
        return f"[col {rng.choice([c for c, cell in enumerate(board[0]) if cell == '.'])}]"

    play(mover, -1)  # warm-up
    started = time.perf_counter()
    plies = sum(play(mover, g) for g in range(games))
    return {"plies": plies, "games": games, "seconds": time.perf_counter() - started}


def http(url: str, games: int, in_flight: int) -> dict:
    from textarena.agents import OpenAIAgent

    def one(seed: int) -> int:
        agent = OpenAIAgent(model_name="bench-model", api_key="not-needed", base_url=url, max_tokens=8)
        return play(lambda env, obs: agent(obs), seed)

    one(-1)  # warm-up: imports, the first connection
    with ThreadPoolExecutor(max_workers=in_flight) as pool:
        started = time.perf_counter()
        plies = sum(pool.map(one, range(games)))
        seconds = time.perf_counter() - started
    return {"plies": plies, "games": games, "seconds": seconds}


if __name__ == "__main__":
    mode = sys.argv[1]
    out = bare(int(sys.argv[2])) if mode == "bare" else http(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    print(json.dumps(out))
