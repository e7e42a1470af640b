"""Writes the engine's reference cases (libs/evaluation/engine/src/lib/reference-cases): each context
below is evaluated by Flagsmith's Python reference engine and written with its result, in the
golden-case format (JSONC, the description in leading comments). The engine's spec
(reference-cases.spec.ts) then requires our results to equal these exactly.

    python3 -m venv /tmp/fe-venv && /tmp/fe-venv/bin/pip install flagsmith-flag-engine==11.1.1
    /tmp/fe-venv/bin/python tools/conformance/reference-cases.py [output directory]
"""
import copy
import json
import os
import sys

from flag_engine.engine import get_evaluation_result

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(__file__), "..", "..", "libs", "evaluation", "engine", "src", "lib", "reference-cases"
)
ENV = {"key": "env_key", "name": "Environment"}
def feat(name, enabled=True, value=None, **kw):
    f = {"key": f"{name}_key", "name": name, "enabled": enabled, "value": f"{name}_value" if value is None else value}
    f.update(kw); return f
def cond(prop, op="EQUAL", value="true"): return {"property": prop, "operator": op, "value": value}
def seg(name, conds, overrides=(), rtype="ALL", **kw):
    s = {"key": f"{name}_key", "name": name, "rules": [{"type": rtype, "conditions": list(conds)}], "overrides": list(overrides)}
    s.update(kw); return s
def ov(name, priority=None, enabled=True, value=None, **kw):
    o = feat(name, enabled, f"{name}_from_override" if value is None else value, **kw)
    o["key"] = f"{name}_override_key"
    if priority is not None: o["priority"] = priority
    return o
def ctx(features, segments, identity=True, traits=None):
    c = {"environment": ENV, "features": {f["name"]: f for f in features}, "segments": {s["key"]: s for s in segments}}
    if identity: c["identity"] = {"identifier": "user", "traits": traits or {}}
    return c
EVERYONE = cond("$.environment.name", "EQUAL", "Environment")

cases = {}
def case(slug, description, context): cases[slug] = (description, context)

case("enabled_read", "a segment condition on $.flags.<name>.enabled reads the other flag's enabled state",
     ctx([feat("gate", True), feat("off_gate", False), feat("a"), feat("b")],
         [seg("gate_on", [cond("$.flags.gate.enabled", "EQUAL", "true")], [ov("a", 1)]),
          seg("off_gate_on", [cond("$.flags.off_gate.enabled", "EQUAL", "true")], [ov("b", 1)])]))
case("value_read_coerced", "$.flags.<name>.value is coerced like any context value: \"007\" is the int 7, \"2.5\" a float",
     ctx([feat("level", value="007"), feat("ratio", value="2.5"), feat("a"), feat("b"), feat("c")],
         [seg("level_is_7", [cond("$.flags.level.value", "EQUAL", "7")], [ov("a")]),
          seg("ratio_above_2", [cond("$.flags.ratio.value", "GREATER_THAN", "2")], [ov("b")]),
          seg("level_text", [cond("$.flags.level.value", "EQUAL", "007")], [ov("c")])]))
case("chain", "c depends on b, b on a, a on a trait: each is resolved with its own overrides first",
     ctx([feat("a", False), feat("b", False), feat("c", False)],
         [seg("c_when_b", [cond("$.flags.b.enabled")], [ov("c", 1, True)]),
          seg("b_when_a", [cond("$.flags.a.enabled")], [ov("b", 1, True)]),
          seg("pro", [cond("plan", "EQUAL", "pro")], [ov("a", 1, True)])], traits={"plan": "pro"}))
case("diamond", "d depends on b and c, both depending on a: a is resolved once and read by both",
     ctx([feat("a", True), feat("b", False), feat("c", False), feat("d", False)],
         [seg("d_when_b_and_c", [cond("$.flags.b.enabled"), cond("$.flags.c.enabled")], [ov("d", 1, True)]),
          seg("b_when_a", [cond("$.flags.a.enabled")], [ov("b", 1, True)]),
          seg("c_when_a", [cond("$.flags.a.value", "EQUAL", "a_value")], [ov("c", 1, True)])]))
case("two_cycle", "a reads b and b reads a: both get ERROR; code=CIRCULAR_DEPENDENCY with the plain pass's enabled and value, and neither segment matches",
     ctx([feat("a"), feat("b", False), feat("other")],
         [seg("a_when_b", [cond("$.flags.b.enabled")], [ov("a", 1)]),
          seg("b_when_a", [cond("$.flags.a.enabled")], [ov("b", 1)])]))
case("three_cycle", "a reads b, b reads c, c reads a; d reads a (outside the cycle: its segment rested on the cut cycle, so it gets its DEFAULT)",
     ctx([feat("a"), feat("b"), feat("c"), feat("d")],
         [seg("d_when_a", [cond("$.flags.a.enabled")], [ov("d", 1)]),
          seg("a_when_b", [cond("$.flags.b.enabled")], [ov("a", 1)]),
          seg("b_when_c", [cond("$.flags.c.enabled")], [ov("b", 1)]),
          seg("c_when_a", [cond("$.flags.a.enabled")], [ov("c", 1)])]))
case("self_dependency", "a segment overriding a reads a itself: a is in a cycle of one",
     ctx([feat("a"), feat("b")],
         [seg("a_when_a", [cond("$.flags.a.enabled")], [ov("a", 1)])]))
case("cycle_with_plain_override", "a and b form a cycle, but another segment that reads no flag overrides a: a reports the cycle with that override's value",
     ctx([feat("a"), feat("b")],
         [seg("a_when_b", [cond("$.flags.b.enabled")], [ov("a", 2, value="from_cycle")]),
          seg("b_when_a", [cond("$.flags.a.enabled")], [ov("b", 1)]),
          seg("everyone", [EVERYONE], [ov("a", 1, value="from_everyone")])]))
case("missing_flag", "a flag the context lacks reads as unset: IS_NOT_SET holds, EQUAL does not",
     ctx([feat("a"), feat("b")],
         [seg("missing_unset", [cond("$.flags.nowhere.enabled", "IS_NOT_SET", "")], [ov("a", 1)]),
          seg("missing_true", [cond("$.flags.nowhere.enabled", "EQUAL", "false")], [ov("b", 1)])]))
case("depends_on_overridden_flag", "b's override depends on a, which has segment overrides of its own (the stronger one, by priority, wins first)",
     ctx([feat("a", value="plain"), feat("b")],
         [seg("b_when_a_is_gold", [cond("$.flags.a.value", "EQUAL", "gold")], [ov("b", 1, value="b_for_gold")]),
          seg("a_silver", [EVERYONE], [ov("a", 5, value="silver")]),
          seg("a_gold", [cond("plan", "EQUAL", "pro")], [ov("a", 2, value="gold")])], traits={"plan": "pro"}))
case("tie_in_context_order", "x is overridden with equal priority by two segments; resolving y evaluates the later one first, yet the first in context order wins",
     ctx([feat("x"), feat("y", False), feat("z")],
         [seg("first", [cond("$.flags.y.enabled")], [ov("x", 1, value="from_first")]),
          seg("second", [EVERYONE], [ov("x", 1, value="from_second"), ov("y", 1, True)]),
          seg("reads_x", [cond("$.flags.x.value", "EQUAL", "from_first")], [ov("z", 1)])]))
case("static_and_default", "the default is STATIC for a feature no segment overrides, DEFAULT for one overridden by segments that did not match (even a segment without rules)",
     ctx([feat("untargeted"), feat("targeted"), feat("ruleless")],
         [seg("nobody", [cond("plan", "EQUAL", "enterprise")], [ov("targeted", 1)]),
          {"key": "empty", "name": "empty", "rules": [], "overrides": [ov("ruleless", 1)]}], traits={"plan": "free"}))
case("identity_override_segments", "identity overrides as SDKs encode them (a segment per group of identities, the strongest priority): another identity's override makes the feature DEFAULT, and a dependant sees this identity's override",
     ctx([feat("a", False), feat("b", False), feat("c")],
         [seg("b_when_a", [cond("$.flags.a.enabled")], [ov("b", 1, True)]),
          {"key": "identity_override_1", "name": "identity_overrides", "rules": [{"type": "ALL", "conditions": [cond("$.identity.identifier", "IN", "user,other")]}], "overrides": [ov("a", -1000000, True, value="mine")], "metadata": {"source": "identity_override"}},
          {"key": "identity_override_2", "name": "identity_overrides", "rules": [{"type": "ALL", "conditions": [cond("$.identity.identifier", "IN", "someone_else")]}], "overrides": [ov("c", -1000000, False)], "metadata": {"source": "identity_override"}}]))
case("odd_names", "names needing brackets: $.flags['a b'] and $.flags['f.g'] read those flags; $.flags.f.g.enabled reads flag f (resolving it) and then finds no field g",
     ctx([feat("a b", True), feat("f.g", True), feat("f", False), feat("x"), feat("y"), feat("z"), feat("it's", True), feat("w")],
         [seg("space", [cond("$.flags['a b'].enabled")], [ov("x", 1)]),
          seg("dotted", [cond("$.flags['f.g'].enabled")], [ov("y", 1)]),
          seg("dotted_unbracketed", [cond("$.flags.f.g.enabled", "IS_SET", "")], [ov("z", 1)]),
          seg("quoted", [cond("$.flags[\"it's\"].enabled")], [ov("w", 1)])]))
case("other_result_fields", "any field of a flag result can be read: reason, variant, name",
     ctx([feat("mv", value="control", variants=[{"key": "big", "value": "big_value", "weight": 100, "priority": 1}]), feat("a"), feat("b"), feat("c")],
         [seg("mv_variant", [cond("$.flags.mv.variant", "EQUAL", "big")], [ov("a", 1)]),
          seg("mv_split", [cond("$.flags.mv.reason", "CONTAINS", "SPLIT")], [ov("b", 1)]),
          seg("static_c", [cond("$.flags.a.reason", "EQUAL", "TARGETING_MATCH; segment=mv_variant")], [ov("c", 1)])]))
case("no_identity", "flag dependencies are resolved without an identity too",
     ctx([feat("a"), feat("b", False)],
         [seg("b_when_a", [cond("$.flags.a.enabled")], [ov("b", 1, True)])], identity=False))
case("sub_rules_after_failed_conditions", "a rule's sub-rules are evaluated even when its conditions failed: a cycle cut there still marks the flags in it",
     ctx([feat("a"), feat("b"), feat("c")],
         [{"key": "a_seg", "name": "a_seg", "rules": [{"type": "ALL", "conditions": [cond("plan", "EQUAL", "never")], "rules": [{"type": "ALL", "conditions": [cond("$.flags.b.enabled")]}]}], "overrides": [ov("a", 1)]},
          seg("b_when_a", [cond("$.flags.a.enabled")], [ov("b", 1)]),
          seg("c_when_b", [cond("$.flags.b.enabled", "EQUAL", "false")], [ov("c", 1)])], traits={"plan": "free"}))

case("identity_override_in_cycle", "a has this identity's override but is in a cycle with b (its segment override reads b): a reports the cycle with the identity override's value",
     ctx([feat("a", False), feat("b")],
         [seg("a_when_b", [cond("$.flags.b.enabled")], [ov("a", 1, value="from_segment")]),
          seg("b_when_a", [cond("$.flags.a.enabled")], [ov("b", 1)]),
          {"key": "identity_override_1", "name": "identity_overrides", "rules": [{"type": "ALL", "conditions": [cond("$.identity.identifier", "IN", "user")]}], "overrides": [ov("a", -1000000, True, value="mine")], "metadata": {"source": "identity_override"}}]))

# Generic queries (`..`, `*`, filters) list objects in the order the reference walks its dicts: the
# written order of `segments` and `features` (where JS lists integer-like keys such as "7" first),
# and `flags` in the order the flags were resolved.
case("query_order_segments", "$..enabled walks segments in written order: segment a (written before segment 7) has the first enabled, false, so Q does not match",
     {"environment": ENV,
      "segments": {"a": {"key": "a", "name": "A", "rules": [], "overrides": [ov("f", enabled=False)]},
                   "7": {"key": "7", "name": "Seven", "rules": [], "overrides": [ov("f", enabled=True)]},
                   "q": {"key": "q", "name": "Q", "rules": [{"type": "ALL", "conditions": [cond("$..enabled", "EQUAL", "true")]}], "overrides": []}},
      "features": {"f": feat("f", True)},
      "identity": {"identifier": "user", "traits": {}}})
case("query_order_features", "$.features.*.enabled lists features in written order: b (disabled) comes before 9, so the segment does not match",
     ctx([feat("b", False), feat("9", True), feat("x")],
         [seg("any_enabled", [cond("$.features.*.enabled", "EQUAL", "true")], [ov("x", 1)])]))
case("query_order_flags", "$.flags.*.enabled lists flags in resolution order: zeta (disabled) was resolved before 42, so the segment does not match",
     ctx([feat("zeta", False), feat("42", True), feat("x")],
         [seg("reads_both", [cond("$.flags.zeta.enabled", "IS_SET", ""), cond("$.flags['42'].enabled", "IS_SET", "")]),
          seg("any_enabled", [cond("$.flags.*.enabled", "EQUAL", "true")], [ov("x", 1)])]))
# A segment overriding a feature twice is checked once per override when that feature is resolved:
# the first check cut a cycle (so it is neither a match nor kept), the second one matches.
case("segment_checked_per_override", "resolving f checks A once per override of f: the first check cuts the cycle x-y (reached through d and B), the second finds d resolved and matches, so f takes A's first override",
     ctx([feat("f", False), feat("d"), feat("x"), feat("y")],
         [seg("t", [cond("$.flags.f.enabled", "IS_SET", "")]),
          seg("A", [cond("$.flags.d.enabled", "IS_SET", "")], [ov("f", value="a1"), ov("f", value="a2")]),
          seg("B", [cond("$.flags.x.enabled", "IS_SET", "")], [ov("d"), ov("y")]),
          seg("C", [cond("$.flags.y.enabled", "IS_SET", "")], [ov("x")])]))

for slug, (description, context) in cases.items():
    result = get_evaluation_result(copy.deepcopy(context))
    text = "// " + description + "\n// Result computed by flagsmith-flag-engine 11.1.1 (the Python reference engine).\n" + json.dumps({"context": context, "result": result}, indent=2) + "\n"
    open(f"{OUT}/{slug}.jsonc", "w").write(text)
    print(slug, {k: (v["reason"], v["enabled"], v["value"]) for k, v in result["flags"].items()}, [s["name"] for s in result["segments"]])
# Identity overrides are encoded as SDKs encode them, but with priority -1000000 where SDKs use
# -Infinity (JSON has no infinities); no priority in these contexts comes near it.
