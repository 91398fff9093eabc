// SPDX-License-Identifier: BSD-2-Clause
//
// flamegraph.js — the interactive part of gil-prof's flame graphs (.svg and
// .html): click a frame to zoom into it, click the root, "Reset Zoom" or
// press Escape to zoom out, search frames by regular expression ("Search",
// Ctrl-F, the search box of the .html page, or ?s=REGEX in the URL), frame
// details on hover. gil-prof draws every frame itself; this script only
// moves, hides, relabels and marks them, so the file renders without it.
// Built into gil-prof as a C array (Makefile); it must never contain the
// three characters that end an XML CDATA section.
(function () {
	"use strict";

	var svg = document.getElementById("gp-flamegraph");
	var attr = function (el, name) { return Number(el.getAttribute(name)); };
	var WIDTH = attr(svg, "data-width");
	var XPAD = attr(svg, "data-xpad");
	var CHARW = attr(svg, "data-charw");
	var TOTAL = attr(svg, "data-total");
	var details = document.getElementById("gp-details");
	var matched = document.getElementById("gp-matched");
	var resetButton = document.getElementById("gp-reset");
	var searchButton = document.getElementById("gp-search");
	var input = document.getElementById("gp-search-input"); // the .html page only
	var nodes = [];
	var term = "";

	Array.prototype.forEach.call(svg.querySelectorAll("g.f"), function (g) {
		var title = g.querySelector("title").textContent;
		var node = {
			g: g,
			x: attr(g, "data-x"),
			w: attr(g, "data-w"),
			d: attr(g, "data-d"),
			label: g.getAttribute("data-l"),
			name: title.split("\n")[0],
			title: title,
			rect: g.querySelector("rect"),
			text: g.querySelector("text")
		};
		g.gpNode = node;
		nodes.push(node);
	});

	// The label cut to what fits in width pixels, as gil-prof cuts it.
	function fit(label, width) {
		var max = Math.floor((width - 6) / CHARW);
		var chars = Array.from(label);

		if (max < 3)
			return "";
		if (chars.length <= max)
			return label;
		return chars.slice(0, max - 2).join("") + "..";
	}

	function place(node, x, width) {
		node.rect.setAttribute("x", x.toFixed(2));
		node.rect.setAttribute("width", width.toFixed(2));
		node.text.setAttribute("x", (x + 3).toFixed(2));
		node.text.textContent = fit(node.label, width);
	}

	function show(node, visible) {
		node.g.style.display = visible ? "" : "none";
	}

	// Zoom so that target (null: the root) fills the width. Its ancestors
	// span the width, faded; everything beside it is hidden.
	function zoom(target) {
		var x0 = target ? target.x : 0;
		var w0 = target ? target.w : TOTAL;
		var d0 = target ? target.d : 0;

		nodes.forEach(function (node) {
			var width = node.w / w0 * WIDTH;

			node.g.classList.remove("a");
			if (node.x >= x0 + w0 || node.x + node.w <= x0 || width < 0.1) {
				show(node, false);
			} else if (node.d < d0) {
				node.g.classList.add("a");
				show(node, true);
				place(node, XPAD, WIDTH);
			} else {
				show(node, true);
				place(node, XPAD + (node.x - x0) / w0 * WIDTH, width);
			}
		});
		resetButton.style.display = target ? "" : "none";
		svg.setAttribute("data-gp-zoom", target ? target.name : "");
	}

	// Share of all samples in the frames matching re, nested matches once.
	function matchedShare(spans) {
		var sum = 0, end = -Infinity;

		spans.sort(function (a, b) { return a[0] - b[0]; });
		spans.forEach(function (s) {
			if (s[0] >= end) {
				sum += s[1] - s[0];
				end = s[1];
			} else if (s[1] > end) {
				sum += s[1] - end;
				end = s[1];
			}
		});
		return TOTAL ? sum / TOTAL : 0;
	}

	function search(text) {
		var re, spans = [];

		term = text || "";
		nodes.forEach(function (node) { node.g.classList.remove("m"); });
		searchButton.classList.toggle("on", term !== "");
		if (!term) {
			matched.textContent = "";
			return;
		}
		try {
			re = new RegExp(term);
		} catch (e) {
			matched.textContent = "Not a regular expression: " + term;
			return;
		}
		nodes.forEach(function (node) {
			if (re.test(node.name)) {
				node.g.classList.add("m");
				spans.push([node.x, node.x + node.w]);
			}
		});
		matched.textContent = "Matched: " + (100 * matchedShare(spans)).toFixed(1) + "%";
	}

	function askSearch() {
		var text;

		if (input) {
			input.focus();
			input.select();
			return;
		}
		text = window.prompt("Search frames (regular expression):", term);
		if (text !== null)
			search(text);
	}

	function nodeOf(event) {
		var g = event.target.closest ? event.target.closest("g.f") : null;

		return g ? g.gpNode : null;
	}

	svg.addEventListener("click", function (event) {
		var node = nodeOf(event);

		if (node)
			zoom(node.d === 0 ? null : node);
	});
	svg.addEventListener("mouseover", function (event) {
		var node = nodeOf(event);

		details.textContent = node ? node.title.replace(/\n/g, " \u00b7 ") : " ";
	});
	resetButton.addEventListener("click", function () { zoom(null); });
	searchButton.addEventListener("click", askSearch);
	if (input)
		input.addEventListener("input", function () { search(input.value); });
	document.addEventListener("keydown", function (event) {
		if ((event.ctrlKey || event.metaKey) && event.key === "f") {
			event.preventDefault();
			askSearch();
		} else if (event.key === "Escape") {
			zoom(null);
			search("");
			if (input)
				input.value = "";
		}
	});

	var fromUrl = new URLSearchParams(window.location.search).get("s");
	if (fromUrl) {
		if (input)
			input.value = fromUrl;
		search(fromUrl);
	}
	svg.setAttribute("data-gp-ready", String(nodes.length));
})();
