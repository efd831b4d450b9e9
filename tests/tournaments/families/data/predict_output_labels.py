'''Labelled predictions for the predict-output reward: real programs, hand-written answers.

Every program is run in the sandbox for its real output (the "exact" answer is never written
here). For each one, four hand-labelled predictions of what a player might answer:

- near: a committed answer with one small mistake (one value a little off, one item missing,
  two lines swapped, a formatting slip);
- far: a committed answer that gets most of it wrong (the classic wrong mental model, values far
  off, the wrong shape);
- hedge: an answer that offers alternatives, the right one among them ("X or Y", "either",
  "X / Y", blocks separated by an "or" line) -- the forgery a reward must not pay for;
- garbage: not an answer at all (prose, a refusal, the code echoed back).

The rule they pin down: exact (1.0) > near > far > garbage, and a hedge never above far.
'''

# (name, code): new programs, beside the 16 built-ins (labelled as builtin:1 .. builtin:16)
PROGRAMS: tuple[tuple[str, str], ...] = (
    ("sum_squares", "print(sum(i * i for i in range(1, 6)))\n"),
    ("int_division", "print(17 // 5, 17 % 5, divmod(-17, 5))\n"),
    ("float_round", "print(round(2.675, 2), round(0.5), round(1.5), round(2.5))\n"),
    ("string_methods", "s = 'Hello, World'\nprint(s.lower().count('o'), s.find('W'), s.replace('l', 'L', 2))\n"),
    ("list_comp_filter", "print([x * x for x in range(10) if x % 3 == 0])\n"),
    ("dict_get_default", "d = {'a': 1, 'b': 2}\nprint(d.get('c', 0) + d.get('a'), sorted(d.items(), reverse=True))\n"),
    ("zip_unequal", "print(list(zip([1, 2, 3], 'ab')), len(list(zip())))\n"),
    ("enumerate_start", "for i, ch in enumerate('xyz', start=5):\n    print(i, ch)\n"),
    ("fibonacci", "a, b = 0, 1\nout = []\nfor _ in range(10):\n    out.append(a)\n    a, b = b, a + b\n"
                  "print(out)\nprint(a)\n"),
    ("factorial_rec", "def fact(n):\n    return 1 if n <= 1 else n * fact(n - 1)\nprint(fact(5), fact(10))\n"),
    ("string_multiply", "print('ab' * 3, '-' * 5, [0] * 3)\n"),
    ("set_ops", "a = {1, 2, 3, 4}\nb = {3, 4, 5}\nprint(sorted(a & b), sorted(a | b), sorted(a - b), len(a ^ b))\n"),
    ("tuple_unpack", "first, *middle, last = range(7)\nprint(first, middle, last)\n"),
    ("collatz_steps", "n = 10\nsteps = 0\nwhile n != 1:\n    n = n // 2 if n % 2 == 0 else 3 * n + 1\n    steps += 1\n"
                      "print(steps, n)\n"),
    ("sorted_key_len", "words = ['pear', 'fig', 'banana', 'kiwi', 'apple']\nprint(sorted(words, key=len))\n"
                       "print(max(words), min(words, key=len))\n"),
    ("any_all", "nums = [2, 4, 6, 7]\nprint(all(n % 2 == 0 for n in nums), any(n > 6 for n in nums), all([]), any([]))\n"),
    ("string_join_split", "csv = 'a,b,,c'\nparts = csv.split(',')\nprint(len(parts), parts, '+'.join(reversed(parts)))\n"),
    ("word_count", "text = 'the cat and the hat and the bat'\ncounts = {}\nfor w in text.split():\n"
                   "    counts[w] = counts.get(w, 0) + 1\nprint(counts)\n"),
    ("global_counter", "total = 0\ndef bump(k):\n    global total\n    total += k\n    return total\n"
                       "print(bump(3), bump(4), total)\n"),
    ("str_format_pad", "for n in (7, 42, 365):\n    print(f'{n:>5}|{n:<5}|{n:05d}|{n:x}')\n"),
    ("is_vs_eq", "a = [1, 2]\nb = [1, 2]\nc = a\nprint(a == b, a is b, a is c, None == None)\n"),
    ("int_conversions", "print(int('101', 2), int('ff', 16), hex(255), oct(8), bin(5))\n"),
    ("matrix_transpose", "m = [[1, 2, 3], [4, 5, 6]]\nprint([list(r) for r in zip(*m)])\nprint(sum(map(sum, m)))\n"),
    ("class_repr_add", "class P:\n    def __init__(self, x, y):\n        self.x, self.y = x, y\n    def __repr__(self):\n"
                       "        return f'P({self.x}, {self.y})'\n    def __add__(self, o):\n"
                       "        return P(self.x + o.x, self.y + o.y)\nprint(P(1, 2) + P(3, 4), [P(0, 0)])\n"),
    ("inheritance_super", "class A:\n    def who(self):\n        return 'A'\nclass B(A):\n    def who(self):\n"
                          "        return 'B' + super().who()\nclass C(B):\n    pass\n"
                          "print(C().who(), isinstance(C(), A), C.__mro__[1].__name__)\n"),
    ("lambda_map_filter", "print(list(map(lambda x: x + 1, filter(lambda x: x % 2, range(8)))))\n"),
    ("float_arith", "print(0.1 + 0.2 == 0.3, round(0.1 + 0.2, 10) == 0.3, 7 / 2, 2 ** -1)\n"),
    ("reverse_words", "s = 'one two three four'\nprint(' '.join(w[::-1] for w in s.split()))\nprint(s.title())\n"),
    ("primes", "primes = [n for n in range(2, 30) if all(n % d for d in range(2, n))]\nprint(primes, len(primes))\n"),
    ("stack_machine", "stack = []\nfor op in [3, 5, '+', 2, '*', 4, '-']:\n    if op == '+':\n"
                      "        stack.append(stack.pop() + stack.pop())\n    elif op == '*':\n"
                      "        stack.append(stack.pop() * stack.pop())\n    elif op == '-':\n"
                      "        b, a = stack.pop(), stack.pop()\n        stack.append(a - b)\n    else:\n"
                      "        stack.append(op)\nprint(stack)\n"),
)

# name -> (near, far, hedge, garbage)
LABELS: dict[str, tuple[str, str, str, str]] = {
    "builtin:1": ("[20, 20, 20]\n[0, 10, 30]", "[0, 1, 2]\n[0, 1, 2]",
                  "[20, 20, 20] or [0, 10, 20]\n[0, 10, 20]", "The closures capture the loop variable."),
    "builtin:2": ("[1] [1, 2] [3] True", "[1] [2] [3] False", "[1, 2] [1, 2] [3] True or [1] [2] [3] False",
                  "I cannot run code."),
    "builtin:3": ("3 1 3\n-3 1 -3\n-4 -1 -3\n3 -1 3", "3 1 3\n-3 -1 -3\n-3 1 -3\n3 -1 3",
                  "3 1 3\n-4 1 -3 or -3 -1 -3\n-4 -1 -3\n3 -1 3", "Floor division rounds toward negative infinity."),
    "builtin:4": ("try 5\nelse\nfinally\nR\nexcept\nfinally\nR", "try 5\nR\nexcept\nE",
                  "try 5\nelse\nfinally\nR\nexcept\nfinally\nE or R", "print(f(2))\nprint(f(0))"),
    "builtin:5": ("yrotnevni\nory\nnet\nrto", "inventory\nry\nnvt\nro", "yrotnevni\nory or tory\nnet\nrte",
                  "s[::-1] reverses the string"),
    "builtin:6": ("10\n10\n[(3, 'a'), (2, 'b'), (1, 'c')]", "4\n4\n[(4, 'a'), (3, 'b'), (2, 'c'), (1, 'd')]",
                  "10\n0 or 10\n[(3, 'a'), (2, 'b'), (1, 'c')]", "Generators can only be consumed once."),
    "builtin:7": ("1 1 0\nTrue ['x']", "1 2 2\nFalse ['y']", "1 1 0 or 1 2 2\nTrue ['x', 'y']", "Counter"),
    "builtin:8": ("box|3|2.2\npallet|3|9.5\ncrate|1|4.0\nbag|1|4.0", "bag|1|4.0\ncrate|1|4.0\nbox|3|2.2\npallet|3|9.5",
                  "box|3|2.2 or pallet|3|9.5\npallet|3|9.5 or box|3|2.2\nbag|1|4.0\ncrate|1|4.0",
                  "sorted by priority then weight"),
    "builtin:9": ("True False True\nlast 0 []\nTrue True", "True True False\n'' 7 None\nTrue False",
                  "True False True\nlast 0 []\nFalse True or True True", "Short-circuit evaluation returns operands."),
    "builtin:10": ("4 [1, 2, 3, 4, 5] 0", "2 [1, [2, [3, [4]]], [5]] 0", "4 or 3 [1, 2, 3, 4, 5] 1",
                   "recursion depth"),
    "builtin:11": ("15 2 5 5 40\n-11 0b10 9", "5 10 0 20 10\n11 0b1 7", "15 2 5 5 40\n-11 or 11 0b10 8",
                   "Bitwise operators work on integers."),
    "builtin:12": ("[('bolts', 35), ('nuts', 0), ('washers', 1), ('rivets', 3)]\n{'bolts': 35, 'rivets': 3, "
                   "'washers': 1}",
                   "[('bolts', 40), ('nuts', 12), ('washers', 7)]\n{'bolts': 40, 'nuts': 12, 'washers': 7}",
                   "[('bolts', 35), ('nuts', 0), ('rivets', 3), ('washers', 1)]\n{'bolts': 35, 'rivets': 3, "
                   "'washers': 1}\nor\n[('bolts', 35), ('nuts', 0), ('washers', 1), ('rivets', 3)]\n"
                   "{'bolts': 35, 'rivets': 3, 'washers': 1}", "stock is a dict"),
    "builtin:13": ("['SKU-17', 'widget', '3', '', '4.50']\nSKU-17|widget|3|-|4.50\n00013.5 ***x***",
                   "['SKU-17', 'widget', '3', '4.50']\nSKU-17|widget|3|4.50\n13.5 x",
                   "['SKU-17', 'widget', '3', '', '4.50']\nSKU-17|widget|3|-|4.50\n00013.50 or 13.50 ***x***",
                   "line = '  SKU-17 ;  widget ; 3 ;; 4.50  '"),
    "builtin:14": ("[[1, 0], [0, 0]] [[1, 0], [0, 0]] [[1, 0], [0, 9]]",
                   "[[1, 1], [1, 1]] [[0, 0], [0, 0]] [[9, 9], [9, 9]]",
                   "[[1, 0], [1, 0]] or [[1, 0], [0, 0]] [[1, 0], [0, 0]] [[1, 0], [1, 9]]",
                   "grid rows are aliases"),
    "builtin:15": ("('outer', 'changed') changed", "('global', 'outer') outer",
                   "('outer', 'changed') global or ('outer', 'outer') global", "nonlocal"),
    "builtin:16": ("2 -1 -1\nValueError 'bad key' KeyError", "3 0 0\nKeyError missing None",
                   "2 -1 -1\nValueError bad key KeyError / KeyError 'missing' None", "An exception is raised."),
    "sum_squares": ("56", "15", "55 or 56", "The sum of squares"),
    "int_division": ("3 2 (-3, 3)", "3.4 2 (3, -2)", "3 2 (-4, 3) or (-3, -2)", "divmod returns a tuple"),
    "float_round": ("2.68 0 2 2", "3 1 2 3", "2.67 or 2.68 0 2 2", "Banker's rounding."),
    "string_methods": ("2 7 HeLLo, WorLd", "3 6 hello, world", "2 or 3 7 HeLLo, World", "s is a string"),
    "list_comp_filter": ("[0, 9, 36]", "[1, 4, 9, 16, 25]", "[0, 9, 36, 81] or [9, 36, 81]", "A list comprehension."),
    "dict_get_default": ("1 [('a', 1), ('b', 2)]", "3 [('c', 0)]", "1 or 0 [('b', 2), ('a', 1)]", "KeyError"),
    "zip_unequal": ("[(1, 'a'), (2, 'b'), (3, None)] 0", "[(1, 2, 3), ('a', 'b')] 1",
                    "[(1, 'a'), (2, 'b')] 0 or [(1, 'a'), (2, 'b'), (3, None)] 0", "zip stops early"),
    "enumerate_start": ("5 x\n6 y\n8 z", "0 x\n1 y\n2 z", "5 x or 0 x\n6 y\n7 z", "enumerate yields pairs"),
    "fibonacci": ("[0, 1, 1, 2, 3, 5, 8, 13, 21, 34]\n89", "[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\n10",
                  "[0, 1, 1, 2, 3, 5, 8, 13, 21, 34]\n55 or 89", "The Fibonacci sequence"),
    "factorial_rec": ("120 362880", "24 100", "120 3628800 / 120 362880", "n!"),
    "string_multiply": ("ababab ---- [0, 0, 0]", "ab3 -5 [0]", "ababab or abab ----- [0, 0, 0]",
                        "Strings can be multiplied"),
    "set_ops": ("[3, 4] [1, 2, 3, 4, 5] [1, 2] 2", "[5] [3, 4] [5] 5", "[3, 4] [1, 2, 3, 4, 5] [1, 2] 3 or 2",
                "sets are unordered"),
    "tuple_unpack": ("0 (1, 2, 3, 4, 5) 6", "0 1 6", "0 [1, 2, 3, 4, 5] 6 or 0 (1, 2, 3, 4, 5) 6", "star unpacking"),
    "collatz_steps": ("7 1", "10 0", "6 or 7 1", "Collatz"),
    "sorted_key_len": ("['fig', 'kiwi', 'pear', 'apple', 'banana']\npear fig",
                       "['apple', 'banana', 'fig', 'kiwi', 'pear']\nbanana apple",
                       "['fig', 'pear', 'kiwi', 'apple', 'banana']\npear or kiwi fig", "sorting by length"),
    "any_all": ("False True True True", "True False False True", "False True True False or False True False False",
                "all and any"),
    "string_join_split": ("4 ['a', 'b', '', 'c'] c+b+a", "3 ['a', 'b', 'c'] a+b+c",
                          "4 ['a', 'b', '', 'c'] c++b+a or 3 ['a', 'b', 'c'] c+b+a", "split on commas"),
    "word_count": ("{'the': 3, 'cat': 1, 'and': 2, 'hat': 1, 'bat': 2}", "{'the': 1, 'cat': 1}",
                   "{'the': 3, 'cat': 1, 'and': 2, 'hat': 1, 'bat': 1} or {'the': 2, 'cat': 1, 'and': 2, 'hat': 1, "
                   "'bat': 1}", "word counts"),
    "global_counter": ("3 7 3", "3 4 0", "3 7 7 or 3 7 0", "global keyword"),
    "str_format_pad": ("7|7 |00007|7\n42|42 |00042|2a\n365|365 |00365|16e", "7|7|7|7\n42|42|42|42\n365|365|365|365",
                       "7|7 |00007|7\n42|42 |00042|2a or 2A\n365|365 |00365|16d", "f-strings format numbers"),
    "is_vs_eq": ("True True True True", "False True False False", "True False True True or True True True True",
                 "is checks identity"),
    "int_conversions": ("5 255 0xff 0o10 0b110", "101 ff 255 8 5", "5 255 0xff 0o10 0b101 / 5 255 0xFF 0o10 0b101",
                        "conversions between bases"),
    "matrix_transpose": ("[[1, 4], [2, 5], [3, 6]]\n20", "[[1, 2, 3], [4, 5, 6]]\n6",
                         "[[1, 4], [2, 5], [3, 6]] or [(1, 4), (2, 5), (3, 6)]\n21", "zip(*m) transposes"),
    "class_repr_add": ("P(4, 6) P(0, 0)", "P(3, 7) []", "P(4, 6) [P(0, 0)] or <__main__.P object> [P(0, 0)]",
                       "P is a class"),
    "inheritance_super": ("BA True A", "C False object", "BA or B True B", "method resolution order"),
    "lambda_map_filter": ("[2, 4, 6]", "[1, 2, 3, 4, 5, 6, 7, 8]", "[2, 4, 6, 8] or [1, 3, 5, 7]", "map and filter"),
    "float_arith": ("False True 3 0.5", "True False 3 2", "False or True True 3.5 0.5", "floating point is inexact"),
    "reverse_words": ("eno owt eerht ruof\nOne two three four", "four three two one\nONE TWO THREE FOUR",
                      "eno owt eerht ruof or ruof eerht owt eno\nOne Two Three Four", "reversing strings"),
    "primes": ("[2, 3, 5, 7, 11, 13, 17, 19, 23] 9", "[1, 2, 3, 5, 7, 9] 6",
               "[2, 3, 5, 7, 11, 13, 17, 19, 23, 29] 10 or 9", "prime numbers below 30"),
    "stack_machine": ("[16]", "[4]", "[12] or [16]", "a stack machine"),
}
