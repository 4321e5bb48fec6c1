"""The words the window says to a student: what each panel draws and what to look for (the "?" in each
dock's title bar), and the equations of each cell type as torch defines them, in the panels' names (Help).

Kept in one place, so that they can be read and corrected together; each text is written against what
its panel really draws (lstm_viz/gui/panels/*.py).
"""

from __future__ import annotations

from lstm_viz.core.config import OWN_TASK

# dock title -> (what is drawn, what to look for); HTML, two short paragraphs each.
PANEL_HELP: dict[str, tuple[str, str]] = {
    "Controls": (
        "The settings of the run. <b>Setup</b> settings (task, cell, units, optimizer…) build a new model: "
        "changing one starts again at step 0. <b>Live</b> settings (learning rate, clipping, temperature) apply "
        "from the next step while training goes on; the Training panel marks the step where you changed one. "
        "<b>Speed</b> slows training down to a few steps a second; <b>Show</b> picks the layer and direction "
        "the panels draw.",
        "Start with a preset: its description says what it shows. Slow the speed to 2–5 steps/s at the start "
        "of a run to watch the gates form, then raise it. Space starts and pauses, S trains exactly one step, "
        "R resets.",
    ),
    "Gates": (
        "Each heatmap is one gate of the selected layer: the units are the rows, the timesteps of the probe "
        "sequence the columns (the same fixed sequence in every frame, so frames compare). An LSTM has the "
        "input gate i<sub>t</sub>, forget gate f<sub>t</sub> and output gate o<sub>t</sub>, sigmoids from 0 "
        "(dark purple) to 1 (yellow), and the candidate g<sub>t</sub>, a tanh from −1 (blue) to +1 (red). A GRU "
        "has r<sub>t</sub>, z<sub>t</sub> and n<sub>t</sub>; a vanilla RNN has no gates, so its h<sub>t</sub> "
        "is shown. The white line and triangles mark the selected unit: click a row to choose one, hover a "
        "cell for its exact value.",
        "The memory is c<sub>t</sub> = f<sub>t</sub>·c<sub>t−1</sub> + i<sub>t</sub>·g<sub>t</sub>: a forget "
        "gate near 1 keeps what the cell holds, near 0 wipes it; an input gate near 1 writes the candidate in. "
        "At step 0 the gates are a uniform mush near 0.5; as the network learns, columns appear at the inputs "
        "that matter (the adding problem's two marked steps) and rows settle into roles. A row stuck at 0 or 1 "
        "everywhere is a saturated unit: the sigmoid is flat there, so little gradient passes through it.",
    ),
    "States": (
        "The cell state c<sub>t</sub> (LSTM only) and the hidden state h<sub>t</sub> of every unit (rows) at "
        "every timestep of the probe (columns). h<sub>t</sub> = o<sub>t</sub>·tanh(c<sub>t</sub>) lies between "
        "−1 (blue) and +1 (red); c<sub>t</sub> is unbounded, so its colour scale covers 99% of its values. "
        "Below: the selected unit's c<sub>t</sub> (orange) and h<sub>t</sub> (blue) over time, and faintly the "
        "three other most active units.",
        "c<sub>t</sub> is the memory: a unit whose c<sub>t</sub> stays level across many steps is holding "
        "something, one that jumps at a particular input has just written it. h<sub>t</sub> is what the output "
        "and the next step see, gated by o<sub>t</sub>. A GRU and a vanilla RNN have only h<sub>t</sub>, which "
        "has to be memory and output at once.",
    ),
    "Gradients through time": (
        "How much the probe sequence's loss L depends on the state at each timestep t, computed exactly by "
        "backpropagation through time: on a log axis ‖∂L/∂h<sub>t</sub>‖ (blue) and, for an LSTM, "
        "‖∂L/∂c<sub>t</sub>‖ (orange), each the norm over the units. Below, ∂L/∂c<sub>t</sub> (LSTM) or "
        "∂L/∂h<sub>t</sub> (GRU, RNN) of every unit, blue negative, red positive.",
        "A line falling towards t=0 is a <b>vanishing gradient</b>: the early steps barely move the loss, so "
        "the network cannot learn to use them (ten orders of magnitude is out of reach). A line rising towards "
        "t=0 is an <b>exploding gradient</b>. The loss is a mean over the timesteps (the adding problem scores "
        "only its last step), so for sine and characters each ‖∂L/∂h<sub>t</sub>‖ is 1/T of a summed loss's: "
        "read the slope, not the level. In an LSTM, ∂L/∂c<sub>t</sub> reaches c<sub>t−1</sub> multiplied by "
        "f<sub>t</sub>: forget gates near 1 keep it alive.",
    ),
    "Training": (
        "Against the training step, on log axes: the <b>training loss</b> (a mean over the batch and the "
        "timesteps) with the yellow dashed <b>no-memory baseline</b>, the loss of the best predictor that sees "
        "the current input but nothing before it (characters add a dotted 'no input' line); the global "
        "<b>gradient norm</b> before (blue) and after clipping (orange), the clipping threshold in yellow and "
        "▼ on clipped steps; and the gradient norm of each weight block (W·i, W·f, … , bias, head). Green "
        "dashed lines mark steps where a live setting changed (hover one for what), red a divergence.",
        "A loss below the baseline is the network using its memory; a loss that sits on the baseline and then "
        "drops is the moment it found the dependency (adding, copy). Gradient norms of 10<sup>4</sup> and more "
        "are an exploding gradient: with clipping by norm the orange line stays at the threshold while the "
        "blue one is huge. The block norms tell which gate's weights are learning.",
    ),
    "Cell": (
        "One unit of the selected layer at the selected timestep (click a heatmap cell to choose them; Alt+← / "
        "Alt+→ walk through the probe), drawn as the classic LSTM diagram: the inputs x<sub>t</sub>, "
        "h<sub>t−1</sub> and c<sub>t−1</sub>, the gates i, f, g, o as coloured bars with their values, the "
        "products f·c<sub>t−1</sub> and i·g, and the outputs c<sub>t</sub> and h<sub>t</sub>. Beside it the "
        "equations with this unit's numbers put in, each exactly the trace's; below, the backward pass at the "
        "same place. A GRU shows r, z, n; a vanilla RNN its one tanh (or relu, as the recorded module has it).",
        "Read c<sub>t</sub> = f<sub>t</sub>·c<sub>t−1</sub> + i<sub>t</sub>·g<sub>t</sub> with real numbers: "
        "f near 1 keeps the old memory, i near 1 writes the candidate. Step through the adding problem's marked "
        "steps and watch i open there. Below, f<sub>t</sub>·∂L/∂c<sub>t</sub> is how much of the gradient flows "
        "on to the step before along the cell: the path that lets an LSTM learn long dependencies.",
    ),
    "Task view": (
        "What the network does with the probe sequence, in the task's own terms.",
        "Every per-timestep panel shows this same probe sequence: find the steps that matter here, then look at "
        "the gates and gradients at those steps.",
    ),
}

# The Task view's first paragraph, per task.
TASK_HELP = {
    "sine": "The probe's input (grey), the target, the next value (dashed), and the network's prediction (blue) at "
    "each step; from the orange line on, the network runs free, fed its own predictions (orange): a network that "
    "has learned the wave keeps drawing it.",
    "chars": "Under each character of the probe text: the probability (blue) the network gives to the character "
    "that really comes next. Below it the probe text itself, each character on the colour of the selected unit's "
    "h<sub>t</sub> at that step (the box picks c<sub>t</sub> or a gate instead): hover a character for the exact "
    "value, click it to select its step. Last, a text sampled from the network at the set temperature. Type your "
    "own probe text under Show.",
    "adding": "The input values (grey dots) with the two marked ones (orange), the network's output at every step "
    "(blue) and the target, the sum of the two marked values (yellow, dashed). Only the output at the last step is "
    "scored; the marked steps are also marked ▲ on the time axis of every per-timestep panel.",
    "copy": "The probability the network gives the right output at each step (a blank, then after the delimiter ▶ "
    "the 10 symbols again), the selected unit's h<sub>t</sub> (and tanh c<sub>t</sub>) as a colour strip, and the "
    "probe's input, target and output symbols under each other, each output green if right, red if not.",
    "digits": "The probe image, its rows lit in turn as the forward (→) and backward (←) directions read them, one "
    "row per timestep; the probability of each class; and the test set's confusion matrix at the last evaluation.",
    OWN_TASK: "What your module's probe_output gave on the probe, over time when it is per timestep.",
}

# The Gradients panel's first paragraph goes on, per task.
GRADIENTS_TASK_HELP = {
    "chars": "For a character model, L is the loss of predicting each next character of the probe text (the text "
    "under Show, which you can type), so these lines change with the text: the gradient at step t gathers the "
    "losses of every later character, and a character the network predicts badly adds a large part at its step.",
}
TASK_NOTES = {"Task view": TASK_HELP, "Gradients through time": GRADIENTS_TASK_HELP}  # title -> task -> more

# cell -> (name, equations as HTML rows). As torch.nn.LSTM / GRU / RNN document them, with the panels' names.
EQUATIONS: dict[str, tuple[str, tuple[tuple[str, str], ...]]] = {
    "lstm": (
        "LSTM (torch.nn.LSTM)",
        (
            (
                "input gate",
                "i<sub>t</sub> = σ(W<sub>ii</sub> x<sub>t</sub> + b<sub>ii</sub> + W<sub>hi</sub> "
                "h<sub>t−1</sub> + b<sub>hi</sub>)",
            ),
            (
                "forget gate",
                "f<sub>t</sub> = σ(W<sub>if</sub> x<sub>t</sub> + b<sub>if</sub> + W<sub>hf</sub> "
                "h<sub>t−1</sub> + b<sub>hf</sub>)",
            ),
            (
                "candidate",
                "g<sub>t</sub> = tanh(W<sub>ig</sub> x<sub>t</sub> + b<sub>ig</sub> + W<sub>hg</sub> "
                "h<sub>t−1</sub> + b<sub>hg</sub>)",
            ),
            (
                "output gate",
                "o<sub>t</sub> = σ(W<sub>io</sub> x<sub>t</sub> + b<sub>io</sub> + W<sub>ho</sub> "
                "h<sub>t−1</sub> + b<sub>ho</sub>)",
            ),
            ("cell state", "c<sub>t</sub> = f<sub>t</sub> ⊙ c<sub>t−1</sub> + i<sub>t</sub> ⊙ g<sub>t</sub>"),
            ("hidden state", "h<sub>t</sub> = o<sub>t</sub> ⊙ tanh(c<sub>t</sub>)"),
        ),
    ),
    "gru": (
        "GRU (torch.nn.GRU)",
        (
            (
                "reset gate",
                "r<sub>t</sub> = σ(W<sub>ir</sub> x<sub>t</sub> + b<sub>ir</sub> + W<sub>hr</sub> "
                "h<sub>t−1</sub> + b<sub>hr</sub>)",
            ),
            (
                "update gate",
                "z<sub>t</sub> = σ(W<sub>iz</sub> x<sub>t</sub> + b<sub>iz</sub> + W<sub>hz</sub> "
                "h<sub>t−1</sub> + b<sub>hz</sub>)",
            ),
            (
                "candidate",
                "n<sub>t</sub> = tanh(W<sub>in</sub> x<sub>t</sub> + b<sub>in</sub> + r<sub>t</sub> ⊙ "
                "(W<sub>hn</sub> h<sub>t−1</sub> + b<sub>hn</sub>))",
            ),
            ("hidden state", "h<sub>t</sub> = (1 − z<sub>t</sub>) ⊙ n<sub>t</sub> + z<sub>t</sub> ⊙ h<sub>t−1</sub>"),
        ),
    ),
    "rnn": (
        "vanilla RNN (torch.nn.RNN, tanh)",
        (
            (
                "hidden state",
                "h<sub>t</sub> = tanh(W<sub>ih</sub> x<sub>t</sub> + b<sub>ih</sub> + W<sub>hh</sub> "
                "h<sub>t−1</sub> + b<sub>hh</sub>)",
            ),
        ),
    ),
}
EQUATIONS_NOTE = {
    "lstm": "σ is the logistic sigmoid, ⊙ the elementwise product. x<sub>t</sub> is the input at step t (a layer "
    "above the first reads the output h<sub>t</sub> of the layer below); h<sub>−1</sub> = c<sub>−1</sub> = 0. "
    "The forget gate multiplies the memory: while f<sub>t</sub> ≈ 1 the cell keeps c<sub>t−1</sub>, and "
    "∂L/∂c<sub>t−1</sub> receives ∂L/∂c<sub>t</sub>·f<sub>t</sub> along the cell, which is why an LSTM's "
    "gradient can survive many steps.",
    "gru": "σ is the logistic sigmoid, ⊙ the elementwise product, h<sub>−1</sub> = 0. The update gate z<sub>t</sub> "
    "near 1 keeps h<sub>t−1</sub> (the GRU's memory), near 0 replaces it with the candidate n<sub>t</sub>; the "
    "reset gate r<sub>t</sub> decides how much of h<sub>t−1</sub> the candidate sees.",
    "rnn": "h<sub>−1</sub> = 0. Every step multiplies the state by W<sub>hh</sub> and squashes it with tanh, so "
    "∂L/∂h<sub>t−1</sub> = W<sub>hh</sub><sup>T</sup>(∂L/∂h<sub>t</sub> ⊙ (1 − h<sub>t</sub><sup>2</sup>)): "
    "over many steps the gradient shrinks or grows geometrically, the vanishing and exploding gradient.",
}

RELU_NOTE = (
    "h<sub>−1</sub> = 0, relu(a) = max(a, 0). Every step multiplies the state by W<sub>hh</sub>, and relu passes "
    "what is positive unchanged, so ∂L/∂h<sub>t−1</sub> = W<sub>hh</sub><sup>T</sup>(∂L/∂h<sub>t</sub> ⊙ "
    "[h<sub>t</sub> &gt; 0]): a unit at 0 passes no gradient back, and one that stays positive multiplies it by "
    "W<sub>hh</sub> at every step, so it can grow or shrink geometrically."
)


def panel_help(title: str, task: str | None = None) -> str:
    """The two paragraphs for the dock `title` as HTML (the first one with what it says of `task`, TASK_NOTES);
    "" if none."""
    if title not in PANEL_HELP:
        return ""
    drawn, look_for = PANEL_HELP[title]
    if task in TASK_NOTES.get(title, {}):
        drawn = f"{drawn} {TASK_NOTES[title][task]}"
    return f"<p><b>What is drawn.</b> {drawn}</p><p><b>What to look for.</b> {look_for}</p>"


def equations_html(cell: str, nonlinearity: str = "tanh") -> str:
    """The equations of `cell` ('lstm', 'gru', 'rnn') as an HTML table with a note; a vanilla RNN's with its
    `nonlinearity` (tanh, or relu for nn.RNN(nonlinearity="relu"))."""
    name, rows = EQUATIONS[cell]
    note = EQUATIONS_NOTE[cell]
    if cell == "rnn" and nonlinearity == "relu":
        name, rows, note = (
            name.replace("tanh", "relu"),
            [(what, eq.replace("tanh", "relu")) for what, eq in rows],
            RELU_NOTE,
        )
    table = "".join(f"<tr><td>{what}&nbsp;&nbsp;</td><td><b>{equation}</b></td></tr>" for what, equation in rows)
    return f"<h3>{name}</h3><table cellspacing='4'>{table}</table><p>{note}</p>"
