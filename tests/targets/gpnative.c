// SPDX-License-Identifier: BSD-2-Clause
/*
 * gpnative — a C extension for the native-stack tests, built by the tests
 * against each interpreter's own headers (tests/functional/test_native.py).
 *
 *   call_back(fn)      calls fn() from C: Python -> C -> Python
 *   spin_nogil(secs)   spins in C for secs with the GIL released
 *   start_thread(fn)   a pthread started from C that calls fn() later
 *
 * Built with -fno-optimize-sibling-calls and each C function doing work
 * after its call, so no function is a tail call missing from the stack.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <pthread.h>
#include <time.h>

static volatile unsigned long sink;

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static PyObject *gpn_call_back(PyObject *self, PyObject *fn)
{
	PyObject *r;

	(void)self;
	r = PyObject_CallObject(fn, NULL);
	sink++;
	return r;
}

__attribute__((noinline)) static void gpn_spin_loop(double secs)
{
	double end = now() + secs;

	while (now() < end)
		for (int i = 0; i < 20000; i++)
			sink += (unsigned long)i;
}

static PyObject *gpn_spin_nogil(PyObject *self, PyObject *arg)
{
	double secs = PyFloat_AsDouble(arg);

	(void)self;
	if (secs == -1.0 && PyErr_Occurred())
		return NULL;
	Py_BEGIN_ALLOW_THREADS
	gpn_spin_loop(secs);
	Py_END_ALLOW_THREADS
	sink++;
	Py_RETURN_NONE;
}

static void *gpn_thread_main(void *fn)
{
	PyGILState_STATE st;
	PyObject *r;

	/* A little C work first: the thread exists before it touches Python. */
	gpn_spin_loop(0.01);
	st = PyGILState_Ensure();
	r = PyObject_CallObject((PyObject *)fn, NULL);
	if (!r)
		PyErr_Print();
	Py_XDECREF(r);
	Py_DECREF((PyObject *)fn);
	PyGILState_Release(st);
	sink++;
	return NULL;
}

static PyObject *gpn_start_thread(PyObject *self, PyObject *fn)
{
	pthread_t t;

	(void)self;
	Py_INCREF(fn);
	if (pthread_create(&t, NULL, gpn_thread_main, fn)) {
		Py_DECREF(fn);
		return PyErr_SetFromErrno(PyExc_OSError);
	}
	pthread_detach(t);
	Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
	{ "call_back", gpn_call_back, METH_O, "Call fn() from C." },
	{ "spin_nogil", gpn_spin_nogil, METH_O, "Spin in C without the GIL." },
	{ "start_thread", gpn_start_thread, METH_O, "Start a C thread that calls fn()." },
	{ NULL, NULL, 0, NULL },
};

static struct PyModuleDef module = { PyModuleDef_HEAD_INIT, "gpnative", NULL, -1, methods,
				     NULL, NULL, NULL, NULL };

PyMODINIT_FUNC PyInit_gpnative(void)
{
	return PyModule_Create(&module);
}
