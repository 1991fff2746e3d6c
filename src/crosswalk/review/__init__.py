"""The analyst's review loop: the queue and what it learns (`queue`), decisions remembered in the
store (`memory`), decisions applied to a finished run (`apply`) and the local web app (`app`)."""
