# inspect.mk - ipckit ls / rm / limits (issue 4).
#
# The inspect sources share a private header the main rules do not know of.
$(filter $(B)/src/inspect%,$(LIB_OBJ)) $(filter $(B)/pic/src/inspect%,$(PIC_OBJ)): src/inspect.h
$(filter $(B)/tests/t_ls_% $(B)/tests/t_remove,$(TEST_BIN)): tests/lib/lsfind.h
