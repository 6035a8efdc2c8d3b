"""``lmms_eval.llm_judge.prompt``: default judge prompts (written for assay), used when a helper calls
``evaluate_binary`` / ``evaluate_comparative`` without its own ``custom_prompt``."""

BINARY_JUDGE_PROMPT = """Decide whether a model's answer to a question is correct, given the reference answer.

Question:
{question}

Reference answer:
{answer}

Model's answer:
{prediction}

How to decide:
- The model's answer may include its reasoning; judge only the final answer it gives.
- Multiple choice: the answer is correct when it names the right option, by letter or by its text.
- Open questions: correct when it means the same as the reference, however phrased; partly correct or
  correct with added wrong claims counts as incorrect.
- Ignore formatting, capitalisation and spacing. Numbers must agree within reasonable precision, and
  units must agree when the question needs one.

Reply with exactly one word: {positive} if the answer is correct, {negative} otherwise."""

COMPARATIVE_JUDGE_PROMPT = """Compare two assistants' answers to the same question.

[Question]
{question}

{context_section}[Assistant 1]
{response1}
[End of Assistant 1]

[Assistant 2]
{response2}
[End of Assistant 2]

Rate each answer for helpfulness, relevance, accuracy and detail, from {min_score} to {max_score} (higher is
better). On the first line write only the two scores, Assistant 1's then Assistant 2's, separated by a
space. Then explain your rating in a few sentences; the order the answers were shown in must not matter.
{evaluation_instruction}"""

CORRECTNESS_JUDGE_PROMPT = """Does the solution reach the correct answer? Compare only the final result with
the correct answer, by meaning: ignore formatting, LaTeX, boxing and other wrappers, and ignore how the
solution got there.

Question:
{question}

Correct answer:
{answer}

Solution:
{prediction}

Reply with only "{positive}" if the solution's result is correct, or "{negative}" if it is not."""
