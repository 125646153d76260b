"""Finance-aware word lists for the lexicon backend.

The core idea: a direction word has no polarity of its own; its polarity comes from the
financial object it moves. "Profit rises" is good, "debt rises" is bad, "loss narrows" is good.
Keys of each table are space-separated word forms sharing one weight.
"""

from __future__ import annotations


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


def _expand(table: dict[str, float]) -> dict[str, float]:
    out: dict[str, float] = {}
    for forms, weight in table.items():
        for form in forms.split():
            out[form] = weight
    return out


# Things a headline can say move. Sign: +1 when more of it is good for the company,
# -1 when more of it is bad. Magnitude: how much a move in it matters.
OBJECTS = _expand(
    {
        # results and guidance
        "profit profits earnings income eps ebitda ebit margin margins result results": 1.0,
        "revenue revenues sales turnover": 1.0,
        "dividend dividends divi payout payouts buyback buybacks": 1.0,
        "guidance outlook forecast forecasts target targets view": 0.9,
        "growth demand orders order bookings backlog deliveries volumes volume": 0.9,
        "output production reserves passengers traffic customers subscribers users": 0.8,
        "cash liquidity capital nav assets aum inflows funds deposits lending money": 0.7,
        "share shares stock stocks valuation rating ratings": 1.0,
        "ftse index market markets bourse equities": 0.7,
        "jobs workforce staff stores branches capacity investment capex spending budget": 0.7,
        "stake market_share": 0.6,
        "capital_raise": -0.6,
        "expectations confidence recovery momentum": 0.6,
        # bad things to have more of
        "loss losses deficit debt debts borrowing borrowings leverage gearing": -1.0,
        "cost costs expenses bill bills charge charges writedown writedowns": -0.9,
        "impairment impairments provision provisions arrears defaults": -0.9,
        "outflows redemptions withdrawals complaints claims": -0.9,
        "fine fines penalty penalties probe probes investigation investigations": -1.0,
        "lawsuit lawsuits suit charges case conviction sanctions ban": -0.9,
        "risk risks uncertainty headwinds pressure pressures concerns worries fears": -0.7,
        "tax taxes levy tariffs wage wages": -0.5,
    }
)

# Own weight of an object mentioned without any direction word next to it.
OBJECT_OWN = _expand(
    {
        "loss losses": -0.9,
        "deficit writedown writedowns impairment impairments arrears defaults": -0.7,
        "outflows redemptions withdrawals complaints": -0.7,
        "fine fines penalty penalties": -1.1,
        "probe probes investigation investigations lawsuit lawsuits": -0.9,
        "sanctions charges conviction ban": -0.6,
        "claims": -0.3,
        "capital_raise": -0.4,
        "uncertainty headwinds pressure pressures concerns worries fears": -0.7,
        "risk risks": -0.4,
        "charge": -0.5,
        "growth recovery momentum": 0.6,
        "dividend dividends divi buyback buybacks": 0.4,
        "profit profits earnings": 0.3,
        "orders order": 0.3,
        "debt": -0.3,
    }
)

# Direction words: sign is the direction (+ more, - less), magnitude the strength.
DIRECTIONS = _expand(
    {
        "rise rises rose risen rising up higher increase increases increased increasing": 1.0,
        "gain gains gained gaining grow grows grew grown growing climb climbs climbed": 1.0,
        "advance advances advanced improve improves improved improving": 0.9,
        "jump jumps jumped leap leaps leapt surge surges surged surging soar soars": 1.4,
        "soared rocketed skyrocket skyrockets": 1.5,
        "rally rallies rallied rebound rebounds rebounded bounce bounces bounced": 1.1,
        "recover recovers recovered lift lifts lifted boost boosts boosted boosting": 1.0,
        "raise raises raised raising hike hikes hiked ups upped top tops topped": 1.0,
        "double doubles doubled triple tripled widen widens widened widening": 1.2,
        "expand expands expanded expanding extend extends extended": 0.8,
        "add adds added create creates created restore restores restored": 0.8,
        "reinstate reinstates reinstated resume resumes resumed": 0.8,
        "strengthen strengthens strengthened accelerate accelerates accelerated": 0.9,
        "help helps helped support supports supported drive drives driven": 0.6,
        "outperform outperforms outperformed": 1.0,
        "fall falls fell fallen falling down lower decrease decreases decreased": -1.0,
        "decline declines declined declining drop drops dropped dropping": -1.0,
        "slide slides slid sliding sink sinks sank sunk skid skids skidded": -1.1,
        "slump slumps slumped tumble tumbles tumbled plunge plunges plunged": -1.4,
        "plummet plummets plummeted crash crashes crashed tank tanks tanked": -1.5,
        "collapse collapses collapsed crater craters cratered": -1.5,
        "slip slips slipped dip dips dipped ease eases eased": -0.6,
        "cut cuts cutting slash slashes slashed halve halves halved axe axes axed": -1.0,
        "reduce reduces reduced reducing shrink shrinks shrank shrunk trim trims": -0.9,
        "lose loses lost losing shed sheds shedding narrow narrows narrowed": -0.9,
        "weaken weakens weakened slow slows slowed slowing erode erodes eroded": -0.9,
        "more": 0.8,
        "underperform underperforms underperformed lag lags lagged lagging": -0.8,
        "suspend suspends suspended scrap scraps scrapped freeze freezes froze": -0.9,
        "deteriorate deteriorates deteriorated worsen worsens worsened": -1.0,
        "falter falters faltered stall stalls stalled less fewer": -0.8,
        "withdraw withdraws withdrew withdrawn": -0.8,
        "dismiss dismisses dismissed overturn overturns overturned quash quashed": -1.0,
        "escape escapes escaped avoid avoids avoided": -0.8,
        "reject rejects rejected deny denies denied dispel dispels dispelled": -0.9,
        "cmp_up": 1.3,
        "cmp_down": -1.3,
    }
)

# Direction words that only mean something next to an object: alone they score nothing.
NEEDS_OBJECT = _words("""up down higher lower narrow narrows narrowed widen widens widened widening
    reduce reduces reduced reducing trim trims raise raises raised raising top tops topped
    extend extends extended add adds added create creates created restore restores restored
    dismiss dismisses dismissed overturn overturns overturned quash quashed escape escapes
    escaped avoid avoids avoided drive drives driven more hike hikes hiked less fewer double
    doubles doubled triple tripled resume resumes resumed ease eases eased
    withdraw withdraws withdrew withdrawn""")

# Directions that only pair with bad objects ("dismisses lawsuit", "escapes fine").
ONLY_BAD_OBJECTS = _words(
    """dismiss dismisses dismissed overturn overturns overturned quash quashed escape
    escapes escaped avoid avoids avoided reject rejects rejected deny denies denied dispel
    dispels dispelled"""
)

# Words and joined phrases with a polarity of their own.
CUES = _expand(
    {
        # results against expectations, ratings
        "beat_exp": 1.3,
        "miss_exp": -1.3,
        "upgrade upgrades upgraded": 1.3,
        "downgrade downgrades downgraded": -1.3,
        "buy_rating outperform_rating": 1.0,
        "sell_rating underperform_rating": -1.0,
        "profit_warning": -1.6,
        "new_high": 1.0,
        "new_low": -1.0,
        "swing_profit": 1.2,
        "swing_loss": -1.2,
        # tone of results and business
        "strong stronger strongest solid robust healthy bumper buoyant resilient": 0.8,
        "record best": 0.5,
        "positive upbeat optimistic optimism confident encouraging encouraged": 0.7,
        "success successful breakthrough milestone hails praised": 0.8,
        "surprise surprises surprised": 0.2,
        "turnaround recovery rebound comeback": 0.6,
        "improvement improvements beats": 0.8,
        "win wins won winning award awarded": 0.8,
        "approval approvals approve approves approved clears cleared nod": 0.7,
        "contract contracts": 0.4,
        "premium": 0.3,
        "gainers winners": 0.8,
        "losers": -0.8,
        "weak weaker weakest weakness soft softer sluggish subdued tepid": -0.8,
        "poor poorer worst bad": -0.8,
        "disappoint disappoints disappointed disappointing disappointment": -1.0,
        "warn warns warned warning warnings caution cautions cautioned cautious": -0.8,
        "slowdown downturn recession rout slump turmoil meltdown": -0.9,
        "crisis trouble troubles troubled struggle struggles struggling woes": -0.9,
        "challenge challenges challenging tough difficult": -0.5,
        "blow setback setbacks pain painful": -0.8,
        "delay delays delayed postpone postpones postponed": -0.7,
        "halt halts halted closure closures shut shuts shutting": -0.7,
        "fail fails failed failure failures flops flop": -0.9,
        "rebuff rebuffs rebuffed rebuffal": -0.4,
        "skeptic skeptics skepticism sceptical scepticism criticism criticised": -0.6,
        "criticized backlash revolt protest protests protesters": -0.6,
        "layoffs redundancies job_cuts": -0.8,
        "job_creation": 0.8,
        "volatile volatility": -0.3,
        # legal, regulatory, misconduct
        "fined sue sues sued suing subpoena subpoenas subpoenaed": -1.0,
        "scandal fraud bribery corruption misconduct libor manipulation rigging": -1.0,
        "guilty jailed prison convicted sentenced accused allegations alleged": -1.0,
        "charged indicted retrial stand_trial": -0.8,
        "settle settles settled settlement": -0.5,
        "banned recall recalls recalled breach breaches hacked cyber": -0.8,
        "spill disaster accident explosion leak strike_action": -0.8,
        "mis_selling ppi compensation": -0.7,
        "watchdog regulator sfo sec fca cftc doj": -0.3,
        "bankruptcy bankrupt insolvency administration default defaults": -1.2,
        "exodus depart departs departed quits resigns resign resigned": -0.4,
        "step_down ousted ousts sacked fired": -0.4,
        "dilution dilutive": -0.4,
        "hit hits hurt hurts dent dents dented weigh weighs weighed drag drags": -0.8,
        "squeeze squeezes squeezed wipe wipes wiped pares pared pare": -0.8,
        "attack attacks cloud clouds long_road": -0.5,
        "convinced pays_off fights_back": 0.5,
        "govt_sale pares_gains torrid skeptical": -0.6,
        "selloff": -0.6,
        "fail_to": -0.5,
        "cost_cuts": 0.6,
        "appoint appoints appointed names named hires hired joins": 0.1,
        "opens open": 0.3,
        "raises_money ipo listing floats flotation": 0.4,
        "backs backed backing reaffirms reaffirmed reiterates confirms on_track": 0.4,
        "steadies steady go_ahead pickup find discovery sails_through": 0.5,
        "good positivity awesome cheer cheers": 0.6,
        "no_cheer under_fire pulls_plug rejects_bid must_pay": -0.7,
        "disruption disrupted disrupt invalidated irregularities headaches abandon": -0.7,
        "abandons abandoned exposed chill brace braced slams summoned": -0.5,
        "questioning clearout shakeup leaves": -0.3,
        "high highs": 0.5,
        "low lows": -0.5,
    }
)

# Deal-making and expansion read as mildly good news for the actor. Several of these words
# usually describe one event, so together they count at most DEAL_CAP.
DEAL_CUES = _expand(
    {
        "acquire acquires acquired acquisition acquisitions buys takeover merger": 0.4,
        "deal deals agreement agrees agreed bid offer partner partners": 0.3,
        "partnership alliance venture jv tie stake_buy invest invests investment": 0.3,
        "launch launches launched expansion expands unveil unveils": 0.4,
        "signs signed secure secures secured seal seals sealed": 0.4,
        "sell sells sold sale disposal divest": 0.2,
        "buy": 0.4,
    }
)
DEAL_CAP = 0.4

# Direction words with their own weight when no object is near ("rejects" alone is bad news,
# "rejects fears" is good news).
UNPAIRED = _expand({"reject rejects rejected": -0.4, "deny denies denied": -0.3})

# Direction words read only with an object on their left: "profit up", not "divide up assets".
LEFT_ONLY = frozenset({"up", "down", "more"})

# "A offsets B", "shrugs off B": the rest of the clause after these loses its weight.
CANCELLERS = _words(
    """offset offsets offsetting shrugs shrug bucks buck resist resists defies defy weathers
    weather"""
)
CANCELLER_WEIGHT = 0.4

# Words that flip the next cue ("no new impairments", "not raising capital").
NEGATORS = _words("not no never without nor cannot unlikely fail_to lack")

# Words that soften the whole headline: it is a possibility, not a fact.
HEDGES = _words("""may might could possible possibly potential potentially reportedly rumour rumours
    rumor rumors speculation considering considers mulls mulling explore explores exploring
    sources source said_to report reports""")

# Words that strengthen (>1) or soften (<1) the next cue or direction.
INTENSIFIERS = _expand(
    {
        "record": 1.5,
        "sharply sharp steep steeply heavy heavily huge massive biggest big hefty": 1.4,
        "deep deeply further significantly substantially strongly surprise": 1.3,
        "pct_big": 1.3,
        "slightly slight small smaller modest modestly marginally little": 0.5,
        "edge edges edged inch inches inched nudge nudges nudged pct_small": 0.6,
    }
)

# Where a clause ends: a direction word never pairs with an object across these.
BOUNDARIES = _words(
    """, ; : ? ! - ( ) as but while after despite amid though although yet than on by
    from over before"""
)

# Adjectives act on what follows ("record fine"); adverbs and percentages on either side
# ("falls sharply", "jumps 27%").
FORWARD_ONLY = _words(
    """record surprise big bigger biggest huge massive heavy hefty deep further small smaller
    slight modest little sharp steep"""
)
