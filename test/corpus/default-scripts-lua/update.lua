-- data: the root file system the files of the update go to
function postinst(root)
	local f = assert(io.open(root .. "/etc/migrated", "w"))
	f:write("migrated\n")
	f:close()
	return true, "done"
end
