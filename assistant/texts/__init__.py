"""Every text a user reads, in Norwegian bokmål and English, in one place.

- `answer`: the words of an answer (headings, weight labels, verdicts, notices, fit reasons);
- `messages`: refusals, errors and notices of the service and the app's runtime;
- `ui`: the app's labels, hints and panels;
- `export`: the conversation file and the decision note.
"""
