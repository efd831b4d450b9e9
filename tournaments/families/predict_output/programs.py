"""Built-in predict-the-output programs: the fallback when no author wrote a usable one.

Small, deterministic (no hashing order of str sets, no time, no ids), stdlib-only
programs that test understanding of Python semantics rather than arithmetic stamina.
Their real output is never stored here: like authored programs, each is run in the
sandbox (twice) when it is used, so the answer is whatever Python really prints.
"""
from __future__ import annotations

BUILTIN_PROGRAMS: tuple[tuple[str, str], ...] = (
    ("What does the late-binding closure list print?",
     "funcs = [lambda: i * 10 for i in range(3)]\n"
     "print([f() for f in funcs])\n"
     "funcs = [lambda i=i: i * 10 for i in range(3)]\n"
     "print([f() for f in funcs])\n"),
    ("What does the mutable default argument do across calls?",
     "def add(item, bucket=[]):\n"
     "    bucket.append(item)\n"
     "    return bucket\n\n"
     "a = add(1)\n"
     "b = add(2)\n"
     "c = add(3, [])\n"
     "print(a, b, c, a is b)\n"),
    ("What do floor division and modulo give for negative numbers?",
     "for a, b in [(7, 2), (-7, 2), (7, -2), (-7, -2)]:\n"
     "    print(a // b, a % b, int(a / b))\n"),
    ("In what order do try/except/else/finally blocks run?",
     "def f(x):\n"
     "    try:\n"
     "        print('try', 10 // x)\n"
     "    except ZeroDivisionError:\n"
     "        print('except')\n"
     "        return 'E'\n"
     "    else:\n"
     "        print('else')\n"
     "    finally:\n"
     "        print('finally')\n"
     "    return 'R'\n\n"
     "print(f(2))\n"
     "print(f(0))\n"),
    ("What does slicing with negative steps and bounds produce?",
     "s = 'inventory'\n"
     "print(s[::-1])\n"
     "print(s[-3:])\n"
     "print(s[1:7:2])\n"
     "print(s[7:1:-2])\n"
     "print(s[100:])\n"),
    ("How does a generator behave when consumed twice?",
     "def countdown(n):\n"
     "    while n > 0:\n"
     "        yield n\n"
     "        n -= 1\n\n"
     "g = countdown(4)\n"
     "print(sum(g))\n"
     "print(sum(g))\n"
     "print(list(zip(countdown(3), 'abcdef')))\n"),
    ("Class attribute or instance attribute: which one changes?",
     "class Counter:\n"
     "    count = 0\n"
     "    items = []\n\n"
     "    def add(self, x):\n"
     "        self.count += 1\n"
     "        self.items.append(x)\n\n"
     "a, b = Counter(), Counter()\n"
     "a.add('x')\n"
     "b.add('y')\n"
     "print(a.count, b.count, Counter.count)\n"
     "print(a.items is b.items, Counter.items)\n"),
    ("What does sorting with a tuple key print?",
     "orders = [('pallet', 3, 9.5), ('crate', 1, 4.0), ('box', 3, 2.25), ('bag', 1, 4.0)]\n"
     "for name, priority, weight in sorted(orders, key=lambda o: (-o[1], o[2], o[0])):\n"
     "    print(f'{name:>6}|{priority}|{weight:.1f}')\n"),
    ("How do chained comparisons and short-circuit operators evaluate?",
     "print(1 < 2 < 3, 3 > 2 > 2, 1 < 3 > 2)\n"
     "print(0 or '' or [] or 'last', 5 and 0 and 7, [] and 1 / 0)\n"
     "print(None is None == True, (None is None) == True)\n"),
    ("What does recursion over a nested structure return?",
     "def depth(x):\n"
     "    if isinstance(x, list):\n"
     "        return 1 + max((depth(y) for y in x), default=0)\n"
     "    return 0\n\n"
     "def flat(x):\n"
     "    return [z for y in x for z in flat(y)] if isinstance(x, list) else [x]\n\n"
     "data = [1, [2, [3, [4]], []], [[5]]]\n"
     "print(depth(data), flat(data), depth([]))\n"),
    ("What do integer bit operations print?",
     "flags = 0b1010\n"
     "print(flags | 0b0101, flags & 0b0110, flags ^ 0b1111, flags >> 1, flags << 2)\n"
     "print(~flags, bin(flags & -flags), (255).bit_length())\n"),
    ("How does dict ordering and update behave?",
     "stock = {'bolts': 40, 'nuts': 12}\n"
     "stock['washers'] = 7\n"
     "stock['bolts'] -= 5\n"
     "stock.update(nuts=0, rivets=3)\n"
     "del stock['washers']\n"
     "stock['washers'] = 1\n"
     "print(list(stock.items()))\n"
     "print({k: v for k, v in stock.items() if v})\n"),
    ("What does string formatting and splitting print?",
     "line = '  SKU-17 ;  widget ; 3 ;; 4.50  '\n"
     "parts = [p.strip() for p in line.split(';')]\n"
     "print(parts)\n"
     "print('|'.join(p or '-' for p in parts))\n"
     "print(f\"{float(parts[-1]) * int(parts[2]):08.2f}\", 'x'.center(7, '*'))\n"),
    ("What happens with aliasing and copying of nested lists?",
     "import copy\n"
     "grid = [[0] * 2] * 2\n"
     "grid[0][0] = 1\n"
     "deep = copy.deepcopy([[0, 0], [0, 0]])\n"
     "deep[0][0] = 1\n"
     "shallow = [row[:] for row in grid]\n"
     "shallow[1][1] = 9\n"
     "print(grid, deep, shallow)\n"),
    ("What does the scope of variables in nested functions print?",
     "x = 'global'\n\n"
     "def outer():\n"
     "    x = 'outer'\n"
     "    def inner():\n"
     "        nonlocal x\n"
     "        x = 'changed'\n"
     "        return x\n"
     "    before = x\n"
     "    inner()\n"
     "    return before, x\n\n"
     "print(outer(), x)\n"),
    ("What does exception chaining and the else-less loop print?",
     "def find(items, target):\n"
     "    for i, item in enumerate(items):\n"
     "        if item == target:\n"
     "            break\n"
     "    else:\n"
     "        return -1\n"
     "    return i\n\n"
     "print(find('route', 'u'), find('route', 'z'), find('', 'a'))\n"
     "try:\n"
     "    try:\n"
     "        {}['missing']\n"
     "    except KeyError as e:\n"
     "        raise ValueError('bad key') from e\n"
     "except ValueError as e:\n"
     "    print(type(e).__name__, e, type(e.__cause__).__name__)\n"),
)
