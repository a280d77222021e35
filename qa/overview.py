"""Questions that ask what a story is about, or for a summary, and their evidence: the
opening sentences of the articles they point to.

News is written lede first: an article's opening sentence says what happened, whatever the
outlet or the subject. So "what is this story about?" and "summarise the news about X" are
answered from the leads of the articles retrieval finds for X (or, with no X, of the newest
articles), not from the sentences that best match the words "summarise" or "story".
"""

from __future__ import annotations

import re

from qa.compose import Candidate, is_heading

# How people ask for a summary or what something is about, in plain English: none of these
# words come from an article.
_OVERVIEW = re.compile(
    r"^\s*(?:(?:can|could|would|will) you\s+|please\s+)?"
    r"(?:summari[sz]e|sum up|recap|outline"
    r"|(?:give|tell) me (?:a |an |the )?(?:summary|overview|rundown|recap|gist|main points)"
    r"(?: of)?"
    r"|(?:what(?:'s| is| are)\s+)?(?:a |an |the )?(?:summary|overview|gist|main points|key points)"
    r"(?: of)?"
    r"|what(?:'s| is| are| was| were)\s+(?:this|that|these|those|the|it)"
    r"(?:\s+(?:news|story|stories|article|articles|report|reports|piece|item))?\s+(?:all\s+)?about"
    r"|what(?:'s| is) in the news"
    # "What's the latest news?", "What are today's top stories?" (and "... on X").
    r"|what(?:'s| is| are)\s+(?:the\s+|today's\s+|this week's\s+)?"
    r"(?:latest|newest|most recent|top|main|big)\s+(?:news|stories|headlines)"
    r"(?:\s+(?:today|this week))?(?:\s+(?:on|about|from|in))?"
    r"|what(?:'s| is| are)\s+(?:the\s+|today's\s+)headlines(?:\s+(?:on|about))?"
    r"|what(?:'s| is) (?:the )?news (?:on|about|from|in)"
    # "What happened most recently?", "What's new?" (and "... in X").
    r"|what(?:'s| has)? happened (?:most )?(?:recently|lately|today|this week)"
    r"|what(?:'s| is) new(?=\s*[?.!]*\s*$|\s+(?:with|in|on|about|from|today|this week)\b)"
    r"|tell me about)\b(?P<topic>.*)$",
    re.IGNORECASE,
)
# "What is the summit about?": the topic sits between the article and "about".
_ABOUT = re.compile(
    r"^\s*what(?:'s| is| are| was| were)\s+(?:this|that|these|those|the)\s+"
    r"(?P<topic>[\w'’ -]{1,60}?)\s+(?:all\s+)?about\s*[?.!]*\s*$",
    re.IGNORECASE,
)
# A story, article or report the user names before the topic: "the story about the deal".
_STORY = re.compile(
    r"^(?:the |this |that |these |those )?(?:news|stories|story|articles?|reports?|coverage)"
    r"\s+(?:about|on|of)\s+",
    re.IGNORECASE,
)
# ... or after it: "the tennis story", "the Vantora news".
_STORY_AFTER = re.compile(
    r"\s+(?:news|stories|story|articles?|reports?|coverage|piece|item)$", re.IGNORECASE)
# What is left of "summarise the news" once the request is taken out: no topic at all.
_NO_TOPIC = re.compile(
    r"^(?:the |these |this |those |all |today's |this week's )?(?:latest |main |top )?"
    r"(?:news|stories|story|articles?|reports?|headlines|it|them|everything)?"
    r"\s*(?:(?:for |of )?(?:today|this week|so far))?$",
    re.IGNORECASE,
)
LEAD_SENTENCES = 2  # per article: the lede and the sentence that backs it up
MAX_ARTICLES = 3
# The share of the topic's (idf-weighted) terms some sentence of an article must hold before
# its lead is read: "summarise the story about the Mars landing" abstains on a corpus that
# never mentions Mars, instead of summarising whatever came back.
MIN_TOPIC_COVERAGE = 0.5


def overview_topic(question: str) -> str | None:
    """The topic an overview question asks about ("" for none: the news as a whole), or
    None when it is not an overview question."""
    found = _OVERVIEW.match(question.strip()) or _ABOUT.match(question.strip())
    if not found:
        return None
    topic = found["topic"].strip(" \t?.!,:;")
    topic = re.sub(r"^(?:of|on|about|for|in|from|with)\s+", "", topic, flags=re.IGNORECASE)
    # "the story about the deal" and "the tennis story": the deal, tennis.
    named = _STORY_AFTER.sub("", _STORY.sub("", topic))
    return "" if _NO_TOPIC.match(named) or _NO_TOPIC.match(f"{named} news") else named


def summary_request(topic: str) -> str:
    """The overview question as the answer model reads it. However it was asked ("what are
    the latest stories about X?", "what's new with X?"), the leads are to be summed up: a
    small model asked for "the latest stories" may answer that no sentence lists them."""
    return f"Summarise the news about {topic}." if topic else "Summarise these news stories."


def relevant_articles(candidates: list[Candidate]) -> list[str]:
    """The articles of the scored sentences that hold enough of the topic, best first."""
    ranked = sorted(candidates, key=lambda c: (-c.coverage, -c.score))
    chosen: list[str] = []
    for c in ranked:
        if c.coverage < MIN_TOPIC_COVERAGE or len(chosen) == MAX_ARTICLES:
            break
        if c.chunk.article_id not in chosen:
            chosen.append(c.chunk.article_id)
    return chosen


def leads(docs, article_ids: list[str], per_article: int = LEAD_SENTENCES) -> list[Candidate]:
    """The first ``per_article`` sentences of each article (headings left out), in order."""
    found: list[Candidate] = []
    for rank, article_id in enumerate(article_ids):
        taken = 0
        for chunk in docs.article_chunks(article_id):
            for start, end, text in chunk.sentence_texts():
                if taken < per_article and not is_heading(text) and not _is_title(
                        text, chunk.title):
                    found.append(Candidate(chunk, start, end, text, rank, coverage=1.0,
                                           score=1.0))
                    taken += 1
            if taken >= per_article:
                break
    return found


def _is_title(text: str, title: str) -> bool:
    """The article's title repeated as its first line (often in Markdown: "**Title**")."""
    def bare(value: str) -> str:
        return " ".join(re.findall(r"\w+", value.lower()))
    return not bare(text) or bare(text) == bare(title) or text.strip().startswith(("#", "**"))
