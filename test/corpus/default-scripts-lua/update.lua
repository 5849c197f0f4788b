function postinst()
	return true, "done"
end
