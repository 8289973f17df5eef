#!/usr/bin/env python3
"""Give an undated, incident-labelled corpus publication dates, to check the story clusterer's
time window on real texts (the generated set of gen_dated_corpus.py has template texts).

Usage: date_corpus.py IN_DIR OUT_DIR [--twins apart|same-week] [--spread-hours H] [--seed S]
(reads IN_DIR/articles.jsonl, writes OUT_DIR/articles.jsonl in publication order)

Each label (incident) gets a start time; its reports are spread uniformly over the following
--spread-hours (default 72). Labels that share the part before the first "_" are treated as one
topic (ECB+ labels "12_ecb" and "12_ecbplus": two incidents of the same kind):
  * --twins apart (default): every incident starts on its own random day in six years, so the
    time window alone keeps a topic's two incidents apart and the clusterer's other rules are
    tested on recall and on unrelated topics only;
  * --twins same-week: a topic's incidents start within three days of each other, the worst case
    for a dated stream (the window cannot help; the content rules must).
Texts, titles, ids and labels are copied unchanged. The dates are invented: this measures the
window's effect, not the corpus's real chronology.
"""
import argparse
import datetime as dt
import json
import os
import random

EPOCH = dt.datetime(2008, 1, 1, tzinfo=dt.timezone.utc)
SPAN_DAYS = 6 * 365
# Longer than the clusterer's 7-day window plus the reports' spread.
MIN_APART_DAYS = 30


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("input")
    parser.add_argument("output")
    parser.add_argument("--twins", choices=["apart", "same-week"], default="apart")
    parser.add_argument("--spread-hours", type=float, default=72.0)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()

    rng = random.Random(args.seed)
    with open(os.path.join(args.input, "articles.jsonl"), encoding="utf-8") as f:
        articles = [json.loads(line) for line in f if line.strip()]
    starts, topic_starts, topic_days = {}, {}, {}
    for label in sorted({a["label"] for a in articles if a.get("label") is not None}):
        topic = label.split("_", 1)[0]
        if args.twins == "apart":
            # Redrawn while within MIN_APART_DAYS of an incident of the same topic, so that the
            # window alone really keeps them apart.
            day = rng.randrange(SPAN_DAYS)
            while any(abs(day - other) < MIN_APART_DAYS for other in topic_days.get(topic, [])):
                day = rng.randrange(SPAN_DAYS)
            topic_days.setdefault(topic, []).append(day)
        else:
            if topic not in topic_starts:
                topic_starts[topic] = rng.randrange(SPAN_DAYS)
            day = topic_starts[topic] + rng.uniform(0, 3)
        starts[label] = EPOCH + dt.timedelta(days=day, hours=rng.randrange(24))

    dated = []
    for article in articles:
        start = starts.get(article.get("label"))
        if start is None:
            start = EPOCH + dt.timedelta(days=rng.randrange(SPAN_DAYS))
        published = start + dt.timedelta(hours=rng.uniform(0, args.spread_hours))
        dated.append(dict(article, published_at=published.strftime("%Y-%m-%dT%H:%M:%SZ")))
    dated.sort(key=lambda a: (a["published_at"], str(a.get("id"))))

    os.makedirs(args.output, exist_ok=True)
    with open(os.path.join(args.output, "articles.jsonl"), "w", encoding="utf-8") as f:
        for article in dated:
            f.write(json.dumps(article, ensure_ascii=False) + "\n")
    print(f"{len(dated)} articles, {len(starts)} labels, twins {args.twins}: {args.output}")


if __name__ == "__main__":
    main()
