"""Analysis of a dump of ads: scoring with language and contacts, campaigns of related ads, the HTML report."""
