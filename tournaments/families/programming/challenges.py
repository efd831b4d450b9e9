"""Built-in programming challenges: the fallback when no author wrote a usable one.

Each is a real-domain task with a single-function entry point, language-neutral test
cases (JSON arguments and expected results, edge cases marked, "raises" for inputs the
function must reject by raising/throwing) and reference solutions in Python and
JavaScript. The validator for a built-in is generated from its cases
(tournaments/families/programming/harness.py), so it can never disagree with itself.
Expected values were worked out by hand and with the reference solutions; rounding
ties (x.x5) are avoided so Python's and JavaScript's rounding agree.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any


def case(args: list[Any], expected: Any, edge: bool = False) -> dict[str, Any]:
    return {"args": args, "expected": expected, "edge": edge}


def raises(args: list[Any]) -> dict[str, Any]:
    return {"args": args, "raises": True, "edge": True}


@dataclass(frozen=True)
class BuiltinChallenge:
    id: str
    title: str
    domain: str
    description: str
    function_name: str
    signature: str  # Python
    js_signature: str
    examples: tuple[str, ...]
    cases: tuple[dict[str, Any], ...]
    reference_py: str
    reference_js: str


BUILTIN_CHALLENGES: tuple[BuiltinChallenge, ...] = (
    BuiltinChallenge(
        "reorder-quantity", "Periodic-review reorder quantity", "supply chain",
        "A warehouse reviews stock with an (s, S) policy. From the recent daily demand history compute the "
        "mean and the population standard deviation. Reorder point s = mean*lead_time_days + "
        "z*stdev*sqrt(lead_time_days); order-up-to level S = s + mean*review_days. The inventory position is "
        "on_hand + on_order. If the position is at or below s, return the units to order, ceil(S - position); "
        "otherwise return 0. An empty history means no demand: return 0.",
        "reorder_quantity",
        "def reorder_quantity(daily_demand: list[float], lead_time_days: int, review_days: int, on_hand: int, "
        "on_order: int, z: float) -> int",
        "function reorder_quantity(daily_demand, lead_time_days, review_days, on_hand, on_order, z)",
        ("reorder_quantity([20,25,18,30,22,27,24], 5, 7, 60, 40, 1.65) == 199",
         "reorder_quantity([10,10,10,10], 3, 7, 100, 0, 1.65) == 0"),
        (case([[20, 25, 18, 30, 22, 27, 24], 5, 7, 60, 40, 1.65], 199),
         case([[10, 10, 10, 10], 3, 7, 100, 0, 1.65], 0),
         case([[12, 15, 9, 14], 2, 5, 10, 5, 2.05], 80),
         case([[40, 35, 50, 45, 38], 4, 7, 80, 20, 1.28], 372),
         case([[], 5, 7, 0, 0, 1.65], 0, edge=True),
         case([[5, 5, 5], 2, 3, 10, 0, 1.0], 15, edge=True)),
        "import math\n\n"
        "def reorder_quantity(daily_demand, lead_time_days, review_days, on_hand, on_order, z):\n"
        "    if not daily_demand:\n        return 0\n"
        "    mean = sum(daily_demand) / len(daily_demand)\n"
        "    sd = math.sqrt(sum((d - mean) ** 2 for d in daily_demand) / len(daily_demand))\n"
        "    s = mean * lead_time_days + z * sd * math.sqrt(lead_time_days)\n"
        "    position = on_hand + on_order\n"
        "    if position > s:\n        return 0\n"
        "    return max(0, math.ceil(s + mean * review_days - position))\n",
        "function reorder_quantity(d, L, R, onHand, onOrder, z) {\n"
        "  if (d.length === 0) return 0;\n"
        "  const mean = d.reduce((a, b) => a + b, 0) / d.length;\n"
        "  const sd = Math.sqrt(d.reduce((a, x) => a + (x - mean) ** 2, 0) / d.length);\n"
        "  const s = mean * L + z * sd * Math.sqrt(L);\n"
        "  const pos = onHand + onOrder;\n"
        "  if (pos > s) return 0;\n"
        "  return Math.max(0, Math.ceil(s + mean * R - pos));\n}\n"
        "module.exports = { reorder_quantity };\n",
    ),
    BuiltinChallenge(
        "creatinine-clearance", "Cockcroft-Gault creatinine clearance", "medical systems",
        "Renal dosing software estimates creatinine clearance (mL/min) with the Cockcroft-Gault equation: "
        "(140 - age) * weight_kg / (72 * serum_creatinine_mg_dl), multiplied by 0.85 when sex is \"F\". "
        "Round to 1 decimal. Reject bad input by raising ValueError: serum creatinine or weight <= 0, age "
        "outside 18..120 (the formula is for adults), or sex other than \"M\"/\"F\".",
        "creatinine_clearance",
        "def creatinine_clearance(age: float, weight_kg: float, serum_creatinine_mg_dl: float, sex: str) -> float",
        "function creatinine_clearance(age, weight_kg, serum_creatinine_mg_dl, sex)",
        ("creatinine_clearance(60, 72, 1.1, 'M') == 72.7", "creatinine_clearance(60, 72, 1.1, 'F') == 61.8"),
        (case([60, 72, 1.1, "M"], 72.7), case([60, 72, 1.1, "F"], 61.8), case([25, 90, 0.9, "M"], 159.7),
         case([85, 50, 1.8, "F"], 18.0), raises([40, 70, 0, "M"]), raises([12, 30, 0.5, "F"])),
        "def creatinine_clearance(age, weight_kg, scr, sex):\n"
        "    if scr <= 0 or weight_kg <= 0 or not 18 <= age <= 120 or sex not in ('M', 'F'):\n"
        "        raise ValueError('invalid input')\n"
        "    crcl = (140 - age) * weight_kg / (72 * scr)\n"
        "    return round(crcl * (0.85 if sex == 'F' else 1.0), 1)\n",
        "function creatinine_clearance(age, w, scr, sex) {\n"
        "  if (scr <= 0 || w <= 0 || age < 18 || age > 120 || (sex !== 'M' && sex !== 'F')) throw new Error('invalid');\n"
        "  const c = (140 - age) * w / (72 * scr) * (sex === 'F' ? 0.85 : 1);\n"
        "  return Math.round(c * 10) / 10;\n}\n"
        "module.exports = { creatinine_clearance };\n",
    ),
    BuiltinChallenge(
        "infusion-rate", "Weight-based infusion pump rate", "medical systems",
        "An infusion pump must be programmed in mL/h. The order is a dose in mcg/kg/min for a patient of "
        "weight_kg; the bag holds drug_mg of drug in bag_ml of fluid. Concentration (mcg/mL) = drug_mg*1000/"
        "bag_ml. Rate (mL/h) = dose * weight * 60 / concentration, rounded to 1 decimal. A zero dose gives 0.0. "
        "Raise ValueError when drug_mg, bag_ml or weight_kg is <= 0 or the dose is negative.",
        "infusion_rate_ml_h",
        "def infusion_rate_ml_h(dose_mcg_kg_min: float, weight_kg: float, drug_mg: float, bag_ml: float) -> float",
        "function infusion_rate_ml_h(dose_mcg_kg_min, weight_kg, drug_mg, bag_ml)",
        ("infusion_rate_ml_h(5, 70, 400, 250) == 13.1",),
        (case([5, 70, 400, 250], 13.1), case([0.1, 80, 4, 250], 30.0), case([10, 62.5, 800, 500], 23.4),
         case([3, 92, 200, 100], 8.3), case([0, 70, 400, 250], 0.0, edge=True), raises([5, 70, 0, 250])),
        "def infusion_rate_ml_h(dose, weight, drug_mg, bag_ml):\n"
        "    if drug_mg <= 0 or bag_ml <= 0 or weight <= 0 or dose < 0:\n"
        "        raise ValueError('invalid input')\n"
        "    return round(dose * weight * 60 / (drug_mg * 1000 / bag_ml), 1)\n",
        "function infusion_rate_ml_h(dose, w, mg, ml) {\n"
        "  if (mg <= 0 || ml <= 0 || w <= 0 || dose < 0) throw new Error('invalid');\n"
        "  return Math.round(dose * w * 60 / (mg * 1000 / ml) * 10) / 10;\n}\n"
        "module.exports = { infusion_rate_ml_h };\n",
    ),
    BuiltinChallenge(
        "flat-pattern", "Sheet-metal flat pattern length", "CAD",
        "A CAD tool unfolds a bent sheet-metal part. Given the straight flange lengths (mm) in order and the "
        "bend angle (degrees) between each pair of consecutive flanges, the flat length is the sum of the "
        "flanges plus each bend allowance BA = angle_in_radians * (inner_radius + k_factor * thickness). Round "
        "to 3 decimals. Raise ValueError if the number of bends is not one less than the number of flanges, "
        "thickness <= 0, inner_radius < 0 or k_factor outside 0..1.",
        "flat_pattern_length",
        "def flat_pattern_length(flanges: list[float], bend_angles_deg: list[float], thickness: float, "
        "inner_radius: float, k_factor: float) -> float",
        "function flat_pattern_length(flanges, bend_angles_deg, thickness, inner_radius, k_factor)",
        ("flat_pattern_length([50, 30, 50], [90, 90], 2, 2, 0.33) == 138.357",),
        (case([[50, 30, 50], [90, 90], 2, 2, 0.33], 138.357), case([[100], [], 1.5, 1, 0.4], 100, edge=True),
         case([[40, 40], [135], 3, 4.5, 0.44], 93.713), case([[25, 60, 25, 10], [90, 90, 45], 1.2, 1.2, 0.42], 126.692),
         raises([[50, 50], [90, 90], 2, 2, 0.33]), raises([[30, 30], [90], 0, 1, 0.3])),
        "import math\n\n"
        "def flat_pattern_length(flanges, angles, t, r, k):\n"
        "    if len(angles) != len(flanges) - 1 or t <= 0 or r < 0 or not 0 <= k <= 1:\n"
        "        raise ValueError('invalid input')\n"
        "    return round(sum(flanges) + sum(math.radians(a) * (r + k * t) for a in angles), 3)\n",
        "function flat_pattern_length(f, a, t, r, k) {\n"
        "  if (a.length !== f.length - 1 || t <= 0 || r < 0 || k < 0 || k > 1) throw new Error('invalid');\n"
        "  const total = f.reduce((s, x) => s + x, 0) + a.reduce((s, x) => s + x * Math.PI / 180 * (r + k * t), 0);\n"
        "  return Math.round(total * 1000) / 1000;\n}\n"
        "module.exports = { flat_pattern_length };\n",
    ),
    BuiltinChallenge(
        "loan-balance", "Remaining balance of an amortising loan", "finance",
        "A loan servicing system needs the outstanding balance of a fixed-rate loan with monthly payments "
        "after payments_made payments. Monthly rate r = annual_rate_percent/1200, n = years*12, payment = "
        "principal*r/(1-(1+r)**-n). Balance = principal*(1+r)**k - payment*((1+r)**k - 1)/r. A 0% loan repays "
        "principal/n each month. After the last payment (or beyond) the balance is 0.0. Round to cents.",
        "remaining_balance",
        "def remaining_balance(principal: float, annual_rate_percent: float, years: int, payments_made: int) -> float",
        "function remaining_balance(principal, annual_rate_percent, years, payments_made)",
        ("remaining_balance(200000, 6, 30, 12) == 197543.98",),
        (case([200000, 6, 30, 12], 197543.98), case([12000, 0, 1, 3], 9000.0, edge=True),
         case([25000, 4.5, 5, 24], 15668.02), case([350000, 7.25, 15, 60], 272145.8),
         case([10000, 5, 2, 24], 0.0, edge=True), case([10000, 5, 2, 30], 0.0, edge=True)),
        "def remaining_balance(p, rate, years, k):\n"
        "    n = years * 12\n"
        "    if k >= n:\n        return 0.0\n"
        "    r = rate / 1200\n"
        "    if r == 0:\n        return round(p - p / n * k, 2)\n"
        "    pay = p * r / (1 - (1 + r) ** -n)\n"
        "    g = (1 + r) ** k\n"
        "    return round(p * g - pay * (g - 1) / r, 2)\n",
        "function remaining_balance(p, rate, years, k) {\n"
        "  const n = years * 12;\n  if (k >= n) return 0;\n  const r = rate / 1200;\n"
        "  if (r === 0) return Math.round((p - p / n * k) * 100) / 100;\n"
        "  const pay = p * r / (1 - Math.pow(1 + r, -n));\n  const g = Math.pow(1 + r, k);\n"
        "  return Math.round((p * g - pay * (g - 1) / r) * 100) / 100;\n}\n"
        "module.exports = { remaining_balance };\n",
    ),
    BuiltinChallenge(
        "route-time-windows", "Delivery route with time windows", "logistics",
        "A dispatcher checks a planned delivery route. The van leaves the depot at start_min (minutes after "
        "midnight). stops is a list of [open, close, service_minutes]; travel_min[i] is the driving time to "
        "stop i from the previous point. At each stop the van arrives, waits until open if early, fails if it "
        "arrives after close, then spends the service time. Return the minute the last service ends (start_min "
        "for an empty route) or -1 if any window is missed. Raise ValueError if the two lists differ in length.",
        "route_finish_time",
        "def route_finish_time(start_min: int, stops: list[list[int]], travel_min: list[int]) -> int",
        "function route_finish_time(start_min, stops, travel_min)",
        ("route_finish_time(480, [[600, 660, 20]], [30]) == 620",),
        (case([480, [[500, 600, 15], [540, 560, 10], [600, 720, 30]], [20, 25, 30]], 630),
         case([480, [[600, 660, 20]], [30]], 620), case([480, [[500, 510, 5], [520, 530, 5]], [40, 5]], -1, edge=True),
         case([0, [], []], 0, edge=True),
         case([420, [[430, 450, 10], [455, 470, 15], [520, 600, 20], [500, 900, 5]], [10, 5, 10, 60]], 605),
         raises([480, [[500, 600, 15]], [20, 30]])),
        "def route_finish_time(t, stops, travel):\n"
        "    if len(stops) != len(travel):\n        raise ValueError('length mismatch')\n"
        "    for (opens, closes, service), drive in zip(stops, travel):\n"
        "        arrive = t + drive\n"
        "        if arrive > closes:\n            return -1\n"
        "        t = max(arrive, opens) + service\n"
        "    return t\n",
        "function route_finish_time(t, stops, travel) {\n"
        "  if (stops.length !== travel.length) throw new Error('length mismatch');\n"
        "  for (let i = 0; i < stops.length; i++) {\n"
        "    const [o, c, s] = stops[i];\n    const arrive = t + travel[i];\n"
        "    if (arrive > c) return -1;\n    t = Math.max(arrive, o) + s;\n  }\n  return t;\n}\n"
        "module.exports = { route_finish_time };\n",
    ),
    BuiltinChallenge(
        "tiered-tariff", "Tiered electricity bill", "energy utilities",
        "A utility bills consumption progressively. tiers is a list of [upper_kwh, price_per_kwh] in increasing "
        "order; each tier covers consumption from the previous upper bound to its own; an upper bound of "
        "null/None means unlimited. Bill = fixed_fee + the charge of every tier, rounded to cents. Raise "
        "ValueError for negative consumption or consumption above the last finite tier.",
        "electricity_bill",
        "def electricity_bill(kwh: float, tiers: list[list], fixed_fee: float) -> float",
        "function electricity_bill(kwh, tiers, fixed_fee)",
        ("electricity_bill(350, [[100, 0.10], [300, 0.15], [None, 0.25]], 9.5) == 62.0",),
        (case([350, [[100, 0.1], [300, 0.15], [None, 0.25]], 9.5], 62.0),
         case([80, [[100, 0.1], [300, 0.15], [None, 0.25]], 9.5], 17.5),
         case([0, [[100, 0.1], [None, 0.2]], 4.0], 4.0, edge=True),
         case([300, [[100, 0.12], [300, 0.18]], 0], 48.0, edge=True),
         raises([301, [[100, 0.12], [300, 0.18]], 0]),
         case([1234, [[500, 0.08], [1000, 0.11], [None, 0.17]], 12.75], 147.53)),
        "def electricity_bill(kwh, tiers, fee):\n"
        "    if kwh < 0:\n        raise ValueError('negative consumption')\n"
        "    total, lower, left = fee, 0, kwh\n"
        "    for upper, price in tiers:\n"
        "        width = left if upper is None else min(left, upper - lower)\n"
        "        total += width * price\n        left -= width\n"
        "        if upper is None or left <= 0:\n            break\n"
        "        lower = upper\n"
        "    if left > 0:\n        raise ValueError('above the last tier')\n"
        "    return round(total, 2)\n",
        "function electricity_bill(kwh, tiers, fee) {\n"
        "  if (kwh < 0) throw new Error('negative');\n  let total = fee, lower = 0, left = kwh;\n"
        "  for (const [upper, price] of tiers) {\n"
        "    const w = upper === null ? left : Math.min(left, upper - lower);\n"
        "    total += w * price; left -= w;\n    if (upper === null || left <= 0) break;\n    lower = upper;\n  }\n"
        "  if (left > 0) throw new Error('above last tier');\n  return Math.round(total * 100) / 100;\n}\n"
        "module.exports = { electricity_bill };\n",
    ),
    BuiltinChallenge(
        "wind-components", "Runway head- and crosswind", "aviation",
        "Flight planning software splits the reported wind into components for a runway. angle = wind_from_deg"
        " - runway_heading_deg; headwind = speed*cos(angle) (negative means tailwind); crosswind = speed*"
        "sin(angle) (positive from the right). Return [headwind, crosswind], each rounded to 1 decimal.",
        "wind_components",
        "def wind_components(runway_heading_deg: float, wind_from_deg: float, wind_speed_kt: float) -> list[float]",
        "function wind_components(runway_heading_deg, wind_from_deg, wind_speed_kt)",
        ("wind_components(90, 120, 20) == [17.3, 10.0]",),
        (case([90, 120, 20], [17.3, 10.0]), case([270, 90, 15], [-15.0, 0.0], edge=True),
         case([360, 10, 30], [29.5, 5.2]), case([10, 350, 25], [23.5, -8.6]),
         case([180, 180, 0], [0.0, 0.0], edge=True), case([45, 300, 12], [-3.1, -11.6])),
        "import math\n\n"
        "def wind_components(runway, wind_from, speed):\n"
        "    a = math.radians(wind_from - runway)\n"
        "    return [round(speed * math.cos(a), 1), round(speed * math.sin(a), 1)]\n",
        "function wind_components(rwy, from, v) {\n"
        "  const a = (from - rwy) * Math.PI / 180;\n"
        "  return [Math.round(v * Math.cos(a) * 10) / 10, Math.round(v * Math.sin(a) * 10) / 10];\n}\n"
        "module.exports = { wind_components };\n",
    ),
    BuiltinChallenge(
        "daily-overtime", "Daily overtime payroll", "payroll",
        "A payroll system applies daily overtime rules: each day's first 8 hours are paid at the base rate, "
        "hours above 8 up to 12 at 1.5x, and hours above 12 at 2x. Given the hours worked per day and the "
        "hourly rate, return the gross pay rounded to cents. Raise ValueError for a day with negative hours "
        "or more than 24.",
        "daily_overtime_pay",
        "def daily_overtime_pay(hours_per_day: list[float], hourly_rate: float) -> float",
        "function daily_overtime_pay(hours_per_day, hourly_rate)",
        ("daily_overtime_pay([10, 12, 6], 20) == 620.0",),
        (case([[8, 8, 8, 8, 8], 25], 1000.0), case([[10, 12, 6], 20], 620.0), case([[14], 30], 540.0),
         case([[], 25], 0.0, edge=True), case([[9.5, 0, 13.25, 7.75], 18.4], 634.8), raises([[-1], 20])),
        "def daily_overtime_pay(hours, rate):\n"
        "    units = 0.0\n"
        "    for h in hours:\n"
        "        if h < 0 or h > 24:\n            raise ValueError('invalid hours')\n"
        "        units += min(h, 8) + 1.5 * max(0, min(h, 12) - 8) + 2 * max(0, h - 12)\n"
        "    return round(units * rate, 2)\n",
        "function daily_overtime_pay(hours, rate) {\n  let u = 0;\n"
        "  for (const h of hours) {\n    if (h < 0 || h > 24) throw new Error('invalid');\n"
        "    u += Math.min(h, 8) + 1.5 * Math.max(0, Math.min(h, 12) - 8) + 2 * Math.max(0, h - 12);\n  }\n"
        "  return Math.round(u * rate * 100) / 100;\n}\n"
        "module.exports = { daily_overtime_pay };\n",
    ),
    BuiltinChallenge(
        "sla-uptime", "SLA uptime from overlapping outages", "site reliability operations",
        "An SLA report needs the uptime percentage of a service over [period_start, period_end) in minutes. "
        "outages is a list of [start, end] incidents from several monitors: they may overlap, be empty, or "
        "extend beyond the period (clip them). Downtime is the length of the union of the clipped outages. "
        "Return 100*(1 - downtime/period_length) rounded to 3 decimals. Raise ValueError if period_end <= "
        "period_start.",
        "sla_uptime_percent",
        "def sla_uptime_percent(period_start: int, period_end: int, outages: list[list[int]]) -> float",
        "function sla_uptime_percent(period_start, period_end, outages)",
        ("sla_uptime_percent(0, 1440, [[100, 200], [150, 300], [290, 310]]) == 85.417",),
        (case([0, 43200, [[100, 160], [1000, 1030]]], 99.792), case([0, 43200, []], 100.0, edge=True),
         case([0, 1440, [[100, 200], [150, 300], [290, 310]]], 85.417),
         case([1000, 2000, [[900, 1100], [1950, 2100]]], 85.0, edge=True),
         case([0, 10080, [[10, 20], [30, 40], [15, 35], [5000, 5000]]], 99.702), raises([500, 500, []])),
        "def sla_uptime_percent(start, end, outages):\n"
        "    if end <= start:\n        raise ValueError('empty period')\n"
        "    spans = sorted((max(s, start), min(e, end)) for s, e in outages)\n"
        "    down, cur = 0, None\n"
        "    for s, e in spans:\n"
        "        if e <= s:\n            continue\n"
        "        if cur is None or s > cur[1]:\n"
        "            if cur:\n                down += cur[1] - cur[0]\n"
        "            cur = [s, e]\n"
        "        else:\n            cur[1] = max(cur[1], e)\n"
        "    if cur:\n        down += cur[1] - cur[0]\n"
        "    return round(100 * (1 - down / (end - start)), 3)\n",
        "function sla_uptime_percent(start, end, outages) {\n"
        "  if (end <= start) throw new Error('empty period');\n"
        "  const spans = outages.map(([s, e]) => [Math.max(s, start), Math.min(e, end)]).filter(([s, e]) => e > s)\n"
        "    .sort((x, y) => x[0] - y[0]);\n  let down = 0, cur = null;\n"
        "  for (const [s, e] of spans) {\n"
        "    if (!cur || s > cur[1]) { if (cur) down += cur[1] - cur[0]; cur = [s, e]; }\n"
        "    else cur[1] = Math.max(cur[1], e);\n  }\n  if (cur) down += cur[1] - cur[0];\n"
        "  return Math.round(100 * (1 - down / (end - start)) * 1000) / 1000;\n}\n"
        "module.exports = { sla_uptime_percent };\n",
    ),
    BuiltinChallenge(
        "growing-degree-days", "Crop growing degree days", "agriculture",
        "Crop models track heat accumulation. For each day, clamp both the maximum and the minimum "
        "temperature into [base, cap], then the day's growing degree days are (tmax + tmin)/2 - base. Return "
        "the season total rounded to 1 decimal. Raise ValueError if the two series differ in length.",
        "growing_degree_days",
        "def growing_degree_days(tmax: list[float], tmin: list[float], base: float, cap: float) -> float",
        "function growing_degree_days(tmax, tmin, base, cap)",
        ("growing_degree_days([25, 28, 31, 22], [12, 14, 18, 9], 10, 30) == 39.5",),
        (case([[25, 28, 31, 22], [12, 14, 18, 9], 10, 30], 39.5), case([[8, 9], [2, 3], 10, 30], 0.0, edge=True),
         case([[35, 40], [22, 25], 10, 30], 33.5, edge=True),
         case([[20.5, 18.2, 26.9], [11.1, 7.4, 15.3], 10, 30], 21.0),
         case([[], [], 10, 30], 0.0, edge=True), raises([[20, 21], [10], 10, 30])),
        "def growing_degree_days(tmax, tmin, base, cap):\n"
        "    if len(tmax) != len(tmin):\n        raise ValueError('length mismatch')\n"
        "    clamp = lambda t: min(max(t, base), cap)\n"
        "    return round(sum((clamp(hi) + clamp(lo)) / 2 - base for hi, lo in zip(tmax, tmin)), 1)\n",
        "function growing_degree_days(tmax, tmin, base, cap) {\n"
        "  if (tmax.length !== tmin.length) throw new Error('length mismatch');\n"
        "  const c = t => Math.min(Math.max(t, base), cap);\n  let s = 0;\n"
        "  for (let i = 0; i < tmax.length; i++) s += (c(tmax[i]) + c(tmin[i])) / 2 - base;\n"
        "  return Math.round(s * 10) / 10;\n}\n"
        "module.exports = { growing_degree_days };\n",
    ),
    BuiltinChallenge(
        "billable-weight", "Parcel billable weight", "shipping",
        "A carrier bills the greater of the actual weight and the dimensional weight length*width*height/"
        "divisor (cm, kg), with a minimum of 0.5 kg, rounded UP to the next 0.5 kg. Raise ValueError if any "
        "dimension or the divisor is <= 0, or the actual weight is negative.",
        "billable_weight_kg",
        "def billable_weight_kg(length_cm: float, width_cm: float, height_cm: float, actual_kg: float, "
        "divisor: float) -> float",
        "function billable_weight_kg(length_cm, width_cm, height_cm, actual_kg, divisor)",
        ("billable_weight_kg(40, 30, 20, 3.2, 5000) == 5.0",),
        (case([40, 30, 20, 3.2, 5000], 5.0), case([10, 10, 10, 0.1, 5000], 0.5, edge=True),
         case([60, 40, 40, 25.3, 5000], 25.5), case([120, 80, 60, 40, 6000], 96.0),
         case([50, 50, 50, 31.26, 4000], 31.5), raises([0, 10, 10, 1, 5000])),
        "import math\n\n"
        "def billable_weight_kg(l, w, h, actual, divisor):\n"
        "    if min(l, w, h, divisor) <= 0 or actual < 0:\n        raise ValueError('invalid input')\n"
        "    kg = max(actual, l * w * h / divisor, 0.5)\n"
        "    return math.ceil(kg * 2 - 1e-9) / 2\n",
        "function billable_weight_kg(l, w, h, actual, divisor) {\n"
        "  if (Math.min(l, w, h, divisor) <= 0 || actual < 0) throw new Error('invalid');\n"
        "  const kg = Math.max(actual, l * w * h / divisor, 0.5);\n  return Math.ceil(kg * 2 - 1e-9) / 2;\n}\n"
        "module.exports = { billable_weight_kg };\n",
    ),
)

BY_ID = {c.id: c for c in BUILTIN_CHALLENGES}
